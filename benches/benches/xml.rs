//! XML layer: parse and Exclusive C14N of a ~2 KB ROAP-like PDU (target ≤ 10 µs each).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sim_core::xml::{
    canonicalize, canonicalize_document, canonicalize_element, parse, C14nVariant, Limits, Name,
    Selection,
};

/// A canonical ROAP-JoinDomainResponse in the shape of seed 002 §6 (G.1.9, qualified
/// `<roap:domainKey>`), padded with realistic base64 to about 2 KB.
fn roap_pdu() -> String {
    let cert = "MIIBszCCARygAwIBAgIBATANBgkqhkiG9w0BAQsFADAQMQ4wDAYDVQQDDAVkcm1zaW0wHhcNMjYwMTAxMDAwMDAwWhcNMjcwMTAxMDAwMDAwWjAQMQ4wDAYDVQQDDAVkZXZpY2UwgZ8wDQYJKoZIhvcNAQEBBQADgY0A";
    format!(
        "<roap:joinDomainResponse xmlns:roap=\"urn:oma:bac:dldrm:roap-1.0\" \
         xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" status=\"Success\">\
         <deviceID><keyIdentifier xsi:type=\"roap:X509SPKIHash\"><hash>vXENc+Um/9/NvmYKiHDLaErK0gk=</hash></keyIdentifier></deviceID>\
         <riID><keyIdentifier xsi:type=\"roap:X509SPKIHash\"><hash>aXENc+Um/9/NvmYKiHDLaErK0fk=</hash></keyIdentifier></riID>\
         <nonce>32efd34de39sdwefqwer</nonce><domainInfo><notAfter>2004-12-22T03:02:00Z</notAfter>\
         <roap:domainKey><encKey Id=\"Domain-XYZ-001\"><xenc:EncryptionMethod \
         Algorithm=\"http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-1#rsaes-kem-kdf2-kw-aes128\"/>\
         <ds:KeyInfo><roap:X509SPKIHash><hash>vXENc+Um/9/NvmYKiHDLaErK0gk=</hash></roap:X509SPKIHash></ds:KeyInfo>\
         <xenc:CipherData><xenc:CipherValue>231jks231dkdwkj3jk321kj321j321kj423j342h213j321jh321jh2134jhk3211fdslfdsopfespjoefwopjsfdpojvct4w925342a</xenc:CipherValue></xenc:CipherData></encKey>\
         <riID><keyIdentifier xsi:type=\"roap:X509SPKIHash\"><hash>aXENc+Um/9/NvmYKiHDLaErK0fk=</hash></keyIdentifier></riID>\
         <mac>ewqrewoewfewohffohr3209832r3</mac></roap:domainKey></domainInfo>\
         <certificateChain><certificate>{cert}</certificate><certificate>{cert}</certificate><certificate>{cert}</certificate></certificateChain>\
         <ocspResponse>miibewqoidpoidsa&amp;&lt;</ocspResponse>\
         <signature>d93e5fue3ue10ue2109ue1ueoidwoijdwe309u09ueqijdwqijdwq09uwqwqi009d93e5fue3ue10ue2109ue1ueoidwoijdwe309u09ueqijdwqijdwq09uwqwqi009</signature>\
         </roap:joinDomainResponse>"
    )
}

fn bench(c: &mut Criterion) {
    let text = roap_pdu();
    let input = text.as_bytes();
    let limits = Limits::default();
    let doc = parse(input, &limits).expect("bench PDU parses");
    let domain_key =
        Selection::element(Name::parse("{urn:oma:bac:dldrm:roap-1.0}domainKey").unwrap())
            .excluding(Name::parse("mac").unwrap());
    let canonical_len = canonicalize_document(&doc).unwrap().len();

    let mut g = c.benchmark_group("xml");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("parse_roap_2k", |b| {
        b.iter(|| parse(black_box(input), &limits).unwrap())
    });
    g.throughput(Throughput::Bytes(canonical_len as u64));
    g.bench_function("c14n_document_roap_2k", |b| {
        b.iter(|| canonicalize_document(black_box(&doc)).unwrap())
    });
    g.bench_function("c14n_element_roap_2k", |b| {
        b.iter(|| canonicalize_element(black_box(&doc.root)).unwrap())
    });
    g.bench_function("c14n_domain_key_nodeset", |b| {
        b.iter(|| canonicalize(black_box(&doc), &domain_key, C14nVariant::XPathNodeSet).unwrap())
    });
    g.bench_function("c14n_domain_key_substring", |b| {
        b.iter(|| canonicalize(black_box(&doc), &domain_key, C14nVariant::Substring).unwrap())
    });
    g.bench_function("parse_then_c14n_roap_2k", |b| {
        b.iter(|| canonicalize_document(&parse(black_box(input), &limits).unwrap()).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    // Plots need a system font criterion's plotters backend cannot find with the
    // workspace's font-less plotters features; the figures are what matter here.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
