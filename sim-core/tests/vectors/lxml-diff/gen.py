import random, os, sys
from lxml import etree
random.seed(int(sys.argv[1]) if len(sys.argv)>1 else 1)
out = sys.argv[2]; os.makedirs(out, exist_ok=True)
URIS=["urn:a","urn:b","http://e/x?a=1&amp;b=&quot;2&quot;"]
NAMES=["a","b","mac","k"]
TEXTS=["x","&amp;","&lt;y&gt;","&#13;","\r\n","'\"","é𝄞","<![CDATA[<&>]]>","&#x9;"," ","\t","]]&gt;"]
def text():
    return "".join(random.choice(TEXTS) for _ in range(random.randint(0,3)))
def attval():
    return "".join(random.choice(["v","&amp;","&lt;","&quot;","'","&#9;","&#10;","&#13;","\t"," \n ","é",">"]) for _ in range(random.randint(0,3)))
def elem(depth, scope):
    decls=[]; 
    for p in ["","p","q"]:
        if random.random()<0.25:
            u=random.choice(URIS)
            if p=="" and random.random()<0.3: u=""
            decls.append((p,u))
    sc=dict(scope); 
    for p,u in decls: sc[p]=u
    avail=[p for p in sc if p!="" and sc[p]!=""]
    prefix = random.choice(avail+[""]*2) if avail else ""
    local=random.choice(NAMES)
    qn = f"{prefix}:{local}" if prefix else local
    s="<"+qn
    for p,u in decls:
        s+= f' xmlns="{u}"' if p=="" else f' xmlns:{p}="{u}"'
    used=set()
    for _ in range(random.randint(0,3)):
        ap=random.choice(avail+["","","xml"])
        al=random.choice(["id","z","lang","t"])
        key=(sc.get(ap) if ap not in ("","xml") else ap, al)
        if key in used: continue
        used.add(key)
        s+=f' {ap+":" if ap else ""}{al}="{attval()}"'
    if depth==0 or random.random()<0.2:
        return s+"/>"
    s+=">"
    for _ in range(random.randint(0,4)):
        r=random.random()
        if r<0.5: s+=elem(depth-1, sc)
        elif r<0.6: s+="<!--c-->"
        elif r<0.7: s+="<?pi d ?>"
        s+=text()
    return s+f"</{qn}>"
def lname(el):
    q=etree.QName(el); return f"{{{q.namespace}}}{q.localname}" if q.namespace else q.localname
n=0
for i in range(400):
    doc=("<?pi0 a?>\n" if random.random()<0.3 else "")+elem(4,{})+("<!--e--><?pi1?>" if random.random()<0.3 else "")
    try:
        root=etree.fromstring(doc.encode())
    except Exception as e:
        continue
    els=list(root.iter(etree.Element))
    sel=random.choice(els); selname=lname(sel)
    first=next(e for e in root.iter(etree.Element) if lname(e)==selname)
    excl=random.choice(NAMES) if random.random()<0.5 else None
    if excl:
        for e in list(first.iter(etree.Element)):
            if e is first or lname(e)!=excl: continue
            if e.getparent() is None: continue
            # skip if already removed (ancestor removed)
            anc=e.getparent(); gone=False
            while anc is not None and anc is not first:
                anc=anc.getparent()
            par=e.getparent(); tail=e.tail or ""
            prev=e.getprevious()
            if prev is not None: prev.tail=(prev.tail or "")+tail
            else: par.text=(par.text or "")+tail
            par.remove(e)
    c14n=etree.tostring(first, method="c14n", exclusive=True, with_comments=False)
    nm=f"g{i:04d}"
    open(f"{out}/{nm}.xml","wb").write(doc.encode())
    open(f"{out}/{nm}.sel","w").write(f"select {selname}\n"+(f"exclude {excl}\n" if excl else ""))
    open(f"{out}/{nm}.c14n","wb").write(c14n)
    n+=1
    if random.random()<0.2:
        whole=etree.tostring(etree.ElementTree(etree.fromstring(doc.encode())), method="c14n", exclusive=True, with_comments=False)
        nm=f"w{i:04d}"
        open(f"{out}/{nm}.xml","wb").write(doc.encode())
        open(f"{out}/{nm}.sel","w").write("")
        open(f"{out}/{nm}.c14n","wb").write(whole)
print("generated", n)
