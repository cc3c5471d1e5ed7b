//! Random, structurally valid PDUs of every kind from a caller-supplied RNG stream: used by
//! property tests, benchmarks and symbolic-mode load generation.

use super::common::*;
use super::dea::*;
use super::metering::*;
use super::moves::*;
use super::pairing::*;
use super::ro::*;
use super::roap::*;
use super::trigger::*;
use super::{Pdu, Status, ALL_KINDS};
use rand::Rng;

/// Characters random strings are drawn from: XML-special, whitespace and non-ASCII included
/// so escaping and canonicalization are exercised.
const ALPHABET: &[char] = &[
    'a', 'b', 'Z', '0', '9', '-', '_', '.', ':', '/', '&', '<', '>', '"', '\'', ' ', '\t', 'é',
    '€', '𝄞',
];

/// Generator of random PDU fields.
pub struct Gen<'r, R: Rng> {
    rng: &'r mut R,
}

impl<'r, R: Rng> Gen<'r, R> {
    /// Wraps an RNG stream.
    pub fn new(rng: &'r mut R) -> Self {
        Gen { rng }
    }
    fn n(&mut self, lo: usize, hi: usize) -> usize {
        self.rng.gen_range(lo..=hi)
    }
    fn coin(&mut self) -> bool {
        self.rng.gen_bool(0.5)
    }
    /// Random bytes of length `lo..=hi`.
    pub fn bytes(&mut self, lo: usize, hi: usize) -> Vec<u8> {
        let n = self.n(lo, hi);
        (0..n).map(|_| self.rng.gen()).collect()
    }
    /// Random text of `lo..=hi` characters (non-empty strings never start/end with
    /// whitespace-only content issues: whitespace is preserved by the codec anyway).
    pub fn text(&mut self, lo: usize, hi: usize) -> String {
        let n = self.n(lo, hi);
        (0..n)
            .map(|_| ALPHABET[self.rng.gen_range(0..ALPHABET.len())])
            .collect()
    }
    /// A 20-byte SPKI-hash identifier.
    pub fn id(&mut self) -> Identifier {
        Identifier::new(self.bytes(20, 20))
    }
    /// A 14-byte nonce (ROAP minimum).
    pub fn nonce(&mut self) -> Vec<u8> {
        self.bytes(14, 20)
    }
    /// A time in 1970..2100.
    pub fn time(&mut self) -> DateTime {
        DateTime::from_unix_s(self.rng.gen_range(0..4_102_444_800))
    }
    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> Option<T> {
        if self.coin() {
            Some(f(self))
        } else {
            None
        }
    }
    fn vec<T>(&mut self, lo: usize, hi: usize, mut f: impl FnMut(&mut Self) -> T) -> Vec<T> {
        let n = self.n(lo, hi);
        (0..n).map(|_| f(self)).collect()
    }
    fn status(&mut self) -> Status {
        Status::ALL[self.rng.gen_range(0..Status::ALL.len())]
    }
    fn expiry(&mut self) -> Expiry {
        if self.coin() {
            Expiry::Infinite
        } else {
            Expiry::At(self.time())
        }
    }
    /// A certificate chain of 1..=3 certificates of ~400 bytes.
    pub fn chain(&mut self) -> CertificateChain {
        CertificateChain {
            certificates: self.vec(1, 3, |g| g.bytes(300, 500)),
        }
    }
    fn ext(&mut self) -> Ext {
        let e = match self.n(0, 4) {
            0 => Extension::PeerKeyIdentifier(self.opt(Gen::id)),
            1 => Extension::NoOcspResponse,
            2 => Extension::OcspResponderKeyIdentifier(self.id()),
            3 => Extension::HashChainSupport,
            _ => Extension::PostResponseUrl(format!("https://ri.example/{}", self.n(0, 999))),
        };
        let mut x = Ext::new(e);
        if !matches!(x.ext, Extension::PostResponseUrl(_)) {
            x.critical = self.coin();
        }
        x
    }
    fn exts(&mut self) -> Vec<Ext> {
        self.vec(0, 3, Gen::ext)
    }
    fn sig(&mut self) -> Vec<u8> {
        self.bytes(128, 256)
    }
    fn mac(&mut self) -> Vec<u8> {
        self.bytes(20, 32)
    }
    fn encrypted(&mut self, ki: Option<KeyInfo>) -> Encrypted {
        Encrypted {
            id: self.opt(|g| g.text(1, 12)),
            algorithm: ALG_KEM.to_string(),
            key_info: ki,
            cipher: self.bytes(16, 160),
        }
    }
    fn key_info(&mut self) -> KeyInfo {
        match self.n(0, 2) {
            0 => KeyInfo::SpkiHash(self.bytes(20, 20)),
            1 => KeyInfo::DomainId(self.text(1, 16)),
            _ => KeyInfo::Retrieval(format!("#{}", self.text(1, 8))),
        }
    }
    /// A domain info with 1..=3 domain keys.
    pub fn domain_info(&mut self) -> DomainInfo {
        DomainInfo {
            not_after: self.expiry(),
            domain_keys: self.vec(1, 3, |g| DomainKey {
                qualified: g.coin(),
                enc_key: {
                    let ki = KeyInfo::SpkiHash(g.bytes(20, 20));
                    g.encrypted(Some(ki))
                },
                ri_id: g.id(),
                mac: g.mac(),
            }),
        }
    }
    fn constraint(&mut self) -> Constraint {
        match self.n(0, 5) {
            0 => Constraint::Count(self.rng.gen()),
            1 => Constraint::TimedCount {
                count: self.rng.gen(),
                timer_s: self.rng.gen_range(0..1_000_000),
            },
            2 => Constraint::Interval(self.rng.gen_range(0..1_000_000_000)),
            3 => Constraint::Accumulated(self.rng.gen_range(0..1_000_000_000)),
            4 => Constraint::Datetime {
                start: self.opt(Gen::time),
                end: self.opt(Gen::time),
            },
            _ => Constraint::System(self.vec(0, 2, |g| g.text(1, 20))),
        }
    }
    /// A Rights element with 1..=2 assets and 1..=3 permissions.
    pub fn rights(&mut self) -> Rights {
        Rights {
            uid: self.text(1, 16),
            assets: self.vec(1, 2, |g| Asset {
                content_id: format!("cid:{}", g.text(1, 12)),
                dcf_hash: g.opt(|g| g.bytes(20, 20)),
            }),
            permissions: self.vec(1, 3, |g| Permission {
                action: Action::ALL[g.n(0, Action::ALL.len() - 1)],
                constraints: g.vec(0, 2, Gen::constraint),
            }),
            user_domains: self.vec(0, 2, |g| g.text(1, 12)),
            move_indication: self.vec(0, 2, |g| g.text(1, 12)),
        }
    }
    /// A protected RO.
    pub fn protected_ro(&mut self) -> ProtectedRo {
        let ki = self.key_info();
        ProtectedRo {
            ro: Ro {
                id: self.text(1, 16),
                version: "2.0".into(),
                domain_ro: self.coin(),
                ri_id: self.id(),
                rights: self.rights(),
                signature: self.opt(Gen::sig),
                time_stamp: self.opt(Gen::time),
                enc_key: self.encrypted(Some(ki)),
            },
            mac: self.mac(),
        }
    }
    fn domain_request(&mut self, leave: bool) -> DomainRequest {
        DomainRequest {
            trigger_nonce: self.opt(Gen::nonce),
            device_id: self.id(),
            ri_id: self.id(),
            nonce: self.nonce(),
            time: self.time(),
            domain_id: format!("Domain-{}-{:03}", self.text(1, 6), self.n(0, 999)),
            certificate_chain: self.opt(Gen::chain),
            not_member: leave && self.coin(),
            extensions: self.exts(),
            signature: self.sig(),
        }
    }
    fn uda(&mut self) -> UserDomainAuthorization {
        self.uda_as(super::moves::UdaHolder::Ri)
    }
    fn source_uda(&mut self) -> UserDomainAuthorization {
        self.uda_as(super::moves::UdaHolder::SourceDevice)
    }
    fn uda_as(&mut self, holder: super::moves::UdaHolder) -> UserDomainAuthorization {
        UserDomainAuthorization {
            holder,
            user_domain_id: self.text(1, 12),
            domain_id: self.opt(|g| g.text(1, 12)),
            entity_id: self.id(),
            dea_id: self.id(),
            not_before: self.time(),
            not_after: self.expiry(),
            signature: self.sig(),
        }
    }
    fn header(&mut self) -> GenHeader {
        GenHeader {
            trigger_none: self.coin(),
            session_id: self.opt(|g| g.text(1, 12)),
            req_id: self.id(),
            res_id: self.id(),
            nonce: self.nonce(),
            certificate_chain: self.opt(Gen::chain),
        }
    }
    fn move_request(&mut self, user_domain: bool) -> MoveRequest {
        MoveRequest {
            req_id: self.id(),
            res_id: self.id(),
            nonce: self.nonce(),
            time: self.time(),
            rights_info: RightsInfo {
                ros: self.vec(1, 2, |g| MovedRo {
                    protected_ro: g.protected_ro(),
                    state: g.opt(|g| StateInfo {
                        count: g.opt(|g| g.rng.gen()),
                        interval_s: g.opt(|g| g.rng.gen_range(0..1_000_000)),
                        accumulated_s: g.opt(|g| g.rng.gen_range(0..1_000_000)),
                    }),
                }),
            },
            source_authorizations: if user_domain {
                self.vec(1, 2, Gen::source_uda)
            } else {
                Vec::new()
            },
            certificate_chain: self.opt(Gen::chain),
            extensions: self.exts(),
            signature: self.sig(),
        }
    }
    fn move_response(&mut self, user_domain: bool) -> MoveResponse {
        MoveResponse {
            status: self.status(),
            req_id: self.id(),
            res_id: self.id(),
            nonce: self.nonce(),
            ri_authorizations: if user_domain {
                self.vec(0, 2, Gen::uda)
            } else {
                Vec::new()
            },
            certificate_chain: self.opt(Gen::chain),
            ocsp_responses: self.vec(0, 2, |g| g.bytes(100, 300)),
            extensions: self.exts(),
            signature: self.sig(),
        }
    }
    fn ticket(&mut self) -> PairingTicket {
        PairingTicket {
            dea_id: self.id(),
            requester_id: self.id(),
            target_id: self.id(),
            not_after: self.expiry(),
            enc_pairing_key: Encrypted {
                id: None,
                algorithm: ALG_KW_AES128.into(),
                key_info: None,
                cipher: self.bytes(24, 24),
            },
            mac: self.mac(),
        }
    }
    fn ro_ids(&mut self) -> Vec<String> {
        self.vec(1, 4, |g| g.text(1, 16))
    }
}

/// A random PDU of kind `ALL_KINDS[kind]` (taken modulo the number of kinds).
pub fn random_pdu<R: Rng>(kind: usize, rng: &mut R) -> Pdu {
    let mut g = Gen::new(rng);
    let g = &mut g;
    match kind % ALL_KINDS.len() {
        0 => Pdu::DeviceHello(DeviceHello {
            version: "1.0".into(),
            device_ids: g.vec(1, 2, Gen::id),
            supported_algorithms: g.vec(0, 3, |g| g.text(5, 40)),
            extensions: g.exts(),
        }),
        1 => Pdu::RiHello(RiHello {
            status: g.status(),
            session_id: g.opt(|g| g.text(1, 12)),
            body: g.opt(|g| RiHelloBody {
                selected_version: "1.0".into(),
                ri_id: g.id(),
                ri_nonce: g.nonce(),
                selected_algorithms: g.vec(0, 3, |g| g.text(5, 40)),
                server_info: g.opt(|g| g.bytes(1, 40)),
                extensions: g.exts(),
            }),
        }),
        2 => Pdu::RegistrationRequest(RegistrationRequest {
            session_id: g.text(1, 12),
            trigger_nonce: g.opt(Gen::nonce),
            nonce: g.nonce(),
            time: g.time(),
            certificate_chain: g.opt(Gen::chain),
            trusted_authorities: g.vec(0, 2, Gen::id),
            server_info: g.opt(|g| g.bytes(1, 40)),
            extensions: g.exts(),
            signature: g.sig(),
        }),
        3 => Pdu::RegistrationResponse(RegistrationResponse {
            status: g.status(),
            session_id: g.text(1, 12),
            body: g.opt(|g| RegistrationResponseBody {
                ri_id: g.id(),
                ri_url: format!("https://ri.example/{}", g.text(0, 10)),
                certificate_chain: g.opt(Gen::chain),
                ocsp_responses: g.vec(0, 2, |g| g.bytes(100, 300)),
                extensions: g.exts(),
                signature: g.sig(),
            }),
        }),
        4 => Pdu::RoRequest(RoRequest {
            trigger_nonce: g.opt(Gen::nonce),
            device_id: g.id(),
            domain_id: g.opt(|g| g.text(1, 12)),
            ri_id: g.id(),
            nonce: g.nonce(),
            time: g.time(),
            ro_ids: g.ro_ids(),
            dcf_hash: g.opt(|g| g.bytes(20, 20)),
            certificate_chain: g.opt(Gen::chain),
            extensions: g.exts(),
            signature: g.sig(),
        }),
        5 => Pdu::RoResponse(RoResponse {
            status: g.status(),
            body: g.opt(|g| RoResponseBody {
                device_id: g.id(),
                ri_id: g.id(),
                nonce: g.nonce(),
                protected_ros: g.vec(0, 2, Gen::protected_ro),
                certificate_chain: g.opt(Gen::chain),
                ocsp_responses: g.vec(0, 2, |g| g.bytes(100, 300)),
                extensions: g.exts(),
                signature: g.sig(),
            }),
        }),
        6 => Pdu::JoinDomainRequest(JoinDomainRequest(g.domain_request(false))),
        7 => Pdu::JoinDomainResponse(JoinDomainResponse {
            status: g.status(),
            body: g.opt(|g| JoinDomainResponseBody {
                device_id: g.id(),
                ri_id: g.id(),
                nonce: g.nonce(),
                domain_info: g.domain_info(),
                certificate_chain: g.opt(Gen::chain),
                ocsp_responses: g.vec(0, 2, |g| g.bytes(100, 300)),
                extensions: g.exts(),
                signature: g.sig(),
            }),
        }),
        8 => Pdu::LeaveDomainRequest(LeaveDomainRequest(g.domain_request(true))),
        9 => Pdu::LeaveDomainResponse(LeaveDomainResponse {
            status: g.status(),
            body: g.opt(|g| LeaveDomainResponseBody {
                nonce: g.nonce(),
                domain_id: g.text(1, 12),
                extensions: g.exts(),
            }),
        }),
        10 => Pdu::MeteringReportSubmit(MeteringReportSubmit {
            trigger_nonce: g.opt(Gen::nonce),
            device_id: g.id(),
            ri_id: g.id(),
            nonce: g.nonce(),
            time: g.time(),
            metering_report: MeteringReport {
                encrypted_report: Encrypted {
                    id: None,
                    algorithm: ALG_AES128_CBC.into(),
                    key_info: Some(KeyInfo::Retrieval("#K_MEK_and_K_MAC".into())),
                    cipher: g.bytes(32, 600),
                },
                enc_key: Encrypted {
                    id: Some("K_MEK_and_K_MAC".into()),
                    algorithm: ALG_KEM.into(),
                    key_info: Some(KeyInfo::SpkiHash(g.bytes(20, 20))),
                    cipher: g.bytes(128, 160),
                },
                mac: g.mac(),
            },
            certificate_chain: g.opt(Gen::chain),
            extensions: g.exts(),
            signature: g.sig(),
        }),
        11 => Pdu::MeteringReportResponse(MeteringReportResponse {
            status: g.status(),
            body: g.opt(|g| MeteringReportResponseBody {
                device_id: g.id(),
                ri_id: g.id(),
                device_nonce: g.nonce(),
                certificate_chain: g.opt(Gen::chain),
                ocsp_responses: g.vec(0, 2, |g| g.bytes(100, 300)),
                extensions: g.exts(),
                signature: g.sig(),
            }),
        }),
        12 => Pdu::RoapTrigger(RoapTrigger {
            version: "1.0".into(),
            kind: TriggerKind::ALL[g.n(0, TriggerKind::ALL.len() - 1)],
            id: g.opt(|g| g.text(1, 8)),
            ri_id: g.id(),
            ri_alias: g.opt(|g| g.text(1, 12)),
            device_id: g.opt(Gen::id),
            nonce: g.opt(Gen::nonce),
            not_after: g.opt(Gen::time),
            roap_url: format!("https://ri.example/roap/{}", g.text(0, 8)),
            domain_id: g.opt(|g| g.text(1, 12)),
            ro_ids: g.vec(0, 3, |g| g.text(1, 12)),
            content_ids: g.vec(0, 2, |g| g.text(1, 12)),
            signature: g.opt(Gen::sig),
            enc_key: g.opt(|g| {
                let ki = g.key_info();
                g.encrypted(Some(ki))
            }),
        }),
        13 => Pdu::MoveDeviceRoRequest(g.move_request(false)),
        14 => Pdu::MoveDeviceRoResponse(g.move_response(false)),
        15 => Pdu::MoveUserDomainConstrainedRoRequest(g.move_request(true)),
        16 => Pdu::MoveUserDomainConstrainedRoResponse(g.move_response(true)),
        17 => Pdu::GetUserDomainAuthorizationRequest(GetUserDomainAuthorizationRequest {
            header: g.header(),
            user_domains: g.vec(1, 3, |g| UserDomainRequest {
                user_domain_id: g.text(1, 12),
                domain_id: g.opt(|g| g.text(1, 12)),
            }),
            signature: g.mac(),
        }),
        18 => {
            let status = g.status();
            let header = g.header();
            let authorizations = g.opt(|g| g.vec(0, 2, Gen::uda));
            // Grants travel inside `<resInfo>` only.
            let user_domain_keys = match authorizations {
                None => Vec::new(),
                Some(_) => g.vec(0, 2, |g| UserDomainKeyGrant {
                    user_domain_id: g.text(1, 12),
                    generation: g.n(0, 999) as u32,
                    hash_chain: g.coin(),
                    enc_key: Encrypted {
                        id: None,
                        algorithm: ALG_KW_AES128.to_string(),
                        key_info: None,
                        cipher: g.bytes(24, 24),
                    },
                }),
            };
            Pdu::GetUserDomainAuthorizationResponse(GetUserDomainAuthorizationResponse {
                status,
                header,
                authorizations,
                user_domain_keys,
                signature: g.mac(),
            })
        }
        19 | 21 => {
            let join = kind % ALL_KINDS.len() == 19;
            let mut device_request = g.domain_request(!join);
            let device_certificate_chain = g.opt(Gen::chain);
            if device_certificate_chain.is_none() && device_request.certificate_chain.is_none() {
                device_request.certificate_chain = Some(g.chain());
            }
            let p = ProxyDomainRequest {
                header: g.header(),
                device_request,
                device_certificate_chain,
                signature: g.mac(),
            };
            if join {
                Pdu::ProxyJoinUserDomainRequest(p)
            } else {
                Pdu::ProxyLeaveUserDomainRequest(p)
            }
        }
        20 => Pdu::ProxyJoinUserDomainResponse(ProxyJoinUserDomainResponse {
            status: g.status(),
            header: g.header(),
            res_info: g.opt(|g| ProxyJoinResInfo {
                domain_info: g.opt(Gen::domain_info),
                device_id: g.opt(Gen::id),
                hash_chain_support: g.coin(),
            }),
            signature: g.mac(),
        }),
        22 => Pdu::ProxyLeaveUserDomainResponse(ProxyLeaveUserDomainResponse {
            status: g.status(),
            header: g.header(),
            res_info: g.opt(|g| (g.text(1, 12), g.id())),
            signature: g.mac(),
        }),
        23 => Pdu::ProxyLeaveUserDomainTrigger(ProxyLeaveUserDomainTrigger {
            id: g.opt(|g| g.text(1, 8)),
            res_id: g.id(),
            res_alias: g.opt(|g| g.text(1, 12)),
            nonce: g.nonce(),
            req_url: format!("https://dea.example/{}", g.text(0, 8)),
            domain_id: g.text(1, 12),
            device_ids: g.vec(1, 3, Gen::id),
            signature: g.opt(Gen::mac),
        }),
        24 => Pdu::PairingJoinDomainRequest(PairingJoinDomainRequest {
            device_id: g.id(),
            dea_id: g.id(),
            user_domain_id: g.text(1, 12),
            nonce: g.nonce(),
            time: g.time(),
            certificate_chain: g.opt(Gen::chain),
            signature: g.sig(),
        }),
        25 => Pdu::PairingJoinDomainResponse(PairingJoinDomainResponse {
            status: g.status(),
            device_id: g.id(),
            dea_id: g.id(),
            nonce: g.nonce(),
            grant: g.opt(|g| PairingJoinGrant {
                user_domain_id: g.text(1, 12),
                enc_master_key: {
                    let ki = KeyInfo::SpkiHash(g.bytes(20, 20));
                    g.encrypted(Some(ki))
                },
                not_after: g.expiry(),
            }),
            certificate_chain: g.opt(Gen::chain),
            signature: g.sig(),
        }),
        26 => Pdu::PairingTicketRequest(PairingTicketRequest {
            requester_id: g.id(),
            target_id: g.id(),
            nonce: g.nonce(),
            imported_rights: g.opt(|g| ImportedRights {
                rights: g.rights(),
                lrm_signature: g.sig(),
            }),
            mac: g.mac(),
        }),
        27 => Pdu::PairingTicketResponse(PairingTicketResponse {
            status: g.status(),
            requester_id: g.id(),
            target_id: g.id(),
            nonce: g.nonce(),
            grant: g.opt(|g| {
                let t = g.ticket();
                let k = Encrypted {
                    id: None,
                    algorithm: ALG_KW_AES128.into(),
                    key_info: None,
                    cipher: g.bytes(24, 24),
                };
                (t, k)
            }),
            mac: g.mac(),
        }),
        28 => Pdu::AuthenticationRequest(AuthenticationRequest {
            requester_id: g.id(),
            target_id: g.id(),
            nonce: g.nonce(),
            ticket: g.ticket(),
            mac: g.mac(),
        }),
        29 => Pdu::AuthenticationResponse(AuthenticationResponse {
            status: g.status(),
            requester_id: g.id(),
            target_id: g.id(),
            nonce: g.nonce(),
            mac: g.mac(),
        }),
        30 => Pdu::ImportInitiation(ImportInitiation {
            lrm_id: g.id(),
            device_id: g.id(),
            nonce: g.nonce(),
            ro_ids: g.ro_ids(),
            certificate_chain: g.opt(Gen::chain),
            signature: g.sig(),
        }),
        31 => Pdu::ImportedRoRequest(ImportedRoRequest {
            device_id: g.id(),
            lrm_id: g.id(),
            nonce: g.nonce(),
            ro_ids: g.ro_ids(),
            mac: g.mac(),
        }),
        _ => Pdu::ImportedRoResponse(ImportedRoResponse {
            status: g.status(),
            device_id: g.id(),
            lrm_id: g.id(),
            nonce: g.nonce(),
            protected_ros: g.vec(0, 2, Gen::protected_ro),
            mac: g.mac(),
        }),
    }
}
