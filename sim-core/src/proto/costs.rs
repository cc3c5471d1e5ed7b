//! The virtual CPU cost table: what each cryptographic and XML operation costs a server or a
//! device, in nanoseconds. Charged identically in real and symbolic mode, so timing never
//! depends on the crypto mode. Defaults are the medians of `../shared/notes/dependencies.md`.

use crate::crypto::{Op, OpCounter};

/// Per-operation costs, ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostTable {
    /// RSA-1024 private-key operation (PSS sign, KEM decrypt).
    pub rsa1024_sign_ns: u64,
    /// RSA-1024 public-key operation (verify, KEM encrypt).
    pub rsa1024_verify_ns: u64,
    /// RSA-2048 private-key operation.
    pub rsa2048_sign_ns: u64,
    /// RSA-2048 public-key operation.
    pub rsa2048_verify_ns: u64,
    /// HMAC per KiB of input.
    pub hmac_per_kb_ns: u64,
    /// SHA-1/SHA-256 per KiB of input.
    pub sha_per_kb_ns: u64,
    /// AES key wrap or unwrap of one key.
    pub key_wrap_ns: u64,
    /// AES-128-CBC per KiB.
    pub aes_cbc_per_kb_ns: u64,
    /// XML parse per KiB of PDU.
    pub xml_parse_per_kb_ns: u64,
    /// XML canonical serialisation per KiB of PDU.
    pub xml_serialize_per_kb_ns: u64,
    /// Fixed cost of handling any request (dispatch, state lookup).
    pub request_base_ns: u64,
}

impl Default for CostTable {
    fn default() -> Self {
        CostTable {
            rsa1024_sign_ns: 340_000,
            rsa1024_verify_ns: 68_000,
            rsa2048_sign_ns: 1_910_000,
            rsa2048_verify_ns: 78_000,
            hmac_per_kb_ns: 750,
            sha_per_kb_ns: 650,
            key_wrap_ns: 650,
            aes_cbc_per_kb_ns: 1_000,
            xml_parse_per_kb_ns: 1_600,
            xml_serialize_per_kb_ns: 1_300,
            request_base_ns: 2_000,
        }
    }
}

fn per_kb(bytes: u64, ns_per_kb: u64) -> u64 {
    // Round up: any input costs at least a fraction of a KiB.
    (bytes * ns_per_kb).div_ceil(1024)
}

impl CostTable {
    /// Cost of one crypto operation.
    pub fn op_ns(&self, op: &Op) -> u64 {
        let rsa = |bits: u32, private: bool| match (bits > 1024, private) {
            (false, true) => self.rsa1024_sign_ns,
            (false, false) => self.rsa1024_verify_ns,
            (true, true) => self.rsa2048_sign_ns,
            (true, false) => self.rsa2048_verify_ns,
        };
        match *op {
            Op::RsaSign { bits } | Op::RsaDecrypt { bits } => rsa(bits, true),
            Op::RsaVerify { bits } | Op::RsaEncrypt { bits } => rsa(bits, false),
            Op::Hmac { bytes } => per_kb(bytes as u64, self.hmac_per_kb_ns).max(200),
            Op::KeyWrap { .. } | Op::KeyUnwrap { .. } => self.key_wrap_ns,
            Op::AesCbc { bytes } => per_kb(bytes as u64, self.aes_cbc_per_kb_ns),
            Op::Sha1 { bytes } | Op::Sha256 { bytes } => per_kb(bytes as u64, self.sha_per_kb_ns),
        }
    }

    /// Cost of every operation logged in `ops`, which is emptied.
    pub fn drain_ns(&self, ops: &mut OpCounter) -> u64 {
        ops.take().iter().map(|op| self.op_ns(op)).sum()
    }

    /// Cost of parsing a PDU of `bytes`.
    pub fn parse_ns(&self, bytes: u32) -> u64 {
        per_kb(bytes as u64, self.xml_parse_per_kb_ns)
    }

    /// Cost of serialising a PDU of `bytes` in canonical form.
    pub fn serialize_ns(&self, bytes: u32) -> u64 {
        per_kb(bytes as u64, self.xml_serialize_per_kb_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_by_operation() {
        let c = CostTable::default();
        assert_eq!(c.op_ns(&Op::RsaSign { bits: 1024 }), 340_000);
        assert_eq!(c.op_ns(&Op::RsaEncrypt { bits: 2048 }), 78_000);
        assert_eq!(c.op_ns(&Op::Sha1 { bytes: 2048 }), 1_300);
        assert_eq!(c.parse_ns(1024), 1_600);
        let mut ops = OpCounter::new();
        ops.record(Op::RsaVerify { bits: 1024 });
        ops.record(Op::KeyWrap { bytes: 32 });
        assert_eq!(c.drain_ns(&mut ops), 68_000 + 650);
        assert_eq!(c.drain_ns(&mut ops), 0);
    }
}
