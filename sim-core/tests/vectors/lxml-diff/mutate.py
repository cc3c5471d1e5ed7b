import random, os, sys, glob
from lxml import etree
random.seed(int(sys.argv[1]))
src=sorted(glob.glob(sys.argv[2] + "/*.xml"))
out=sys.argv[3]; os.makedirs(out, exist_ok=True)
TOK=[b"<",b">",b"&",b";",b":",b"xmlns:z=\"\"",b"\"",b"'",b"/",b"]]>",b"&#0;",b"&#x10FFFF;",b"\xff",b"\x01",b"<!DOCTYPE a>",b"p:",b"xmlns=\"urn:q\"",b" x=\"1\"",b"--",b"?>",b"<?xml version=\"1.0\"?>",b"&#xFFFE;",b"\xef\xbf\xbf"]
n=0
for i in range(1500):
    d=bytearray(open(random.choice(src),"rb").read())
    for _ in range(random.randint(1,3)):
        pos=random.randint(0,len(d))
        r=random.random()
        if r<0.4: d[pos:pos]=random.choice(TOK)
        elif r<0.7 and len(d)>1: del d[pos:pos+random.randint(1,4)]
        else: d[pos:pos]=bytes([random.randint(0,255)])
    d=bytes(d)
    nm=f"{out}/m{i:04d}"
    try:
        p=etree.XMLParser(resolve_entities=False, no_network=True, recover=False)
        root=etree.fromstring(d, p)
        if root.getroottree().docinfo.doctype or root.getroottree().docinfo.internalDTD is not None: raise Exception("doctype")
        c=etree.tostring(etree.ElementTree(root), method="c14n", exclusive=True, with_comments=False)
        open(nm+".c14n","wb").write(c)
    except Exception as e:
        open(nm+".reject","w").write(str(e))
    open(nm+".xml","wb").write(d); open(nm+".sel","w").write("")
    n+=1
print(n)
