//! The Tamperer: modifies one field of a request in transit (signature, nonce, Device ID,
//! requested RO IDs, DRM time, the moved count of a Move request) and re-encodes it. The receiver must refuse it: requests are
//! signed over every field (ROAP §5.4.2.1.3, §5.4.2.3.1). The attack succeeds when the
//! server answers the modified request with Success.

use super::replayer::AnswerJudge;
use super::{score, AdversarySpec, Attack, AttackCx, AttackStats};
use crate::crypto::CryptoMode;
use crate::engine::{ActorId, Verdict};
use crate::invariant::request_once::request_key;
use crate::invariant::Observed;
use crate::pdu::{Identifier, Pdu};
use crate::proto::msg::{SimMsg, Wire};
use crate::trace::TraceEvent;
use rand::Rng;

/// Which field a tamperer changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// One bit of the signature.
    Signature,
    /// One bit of the nonce.
    Nonce,
    /// The Device ID (another, well-formed ID).
    DeviceId,
    /// The requested RO IDs (one more asked for).
    RoIds,
    /// The DRM time (one hour later).
    Time,
    /// The moved count of a Move request (doubled, or 2 when absent).
    Count,
}

/// Flips the lowest bit of the first byte (or appends a byte to an empty field).
fn flip(b: &mut Vec<u8>) {
    match b.first_mut() {
        Some(x) => *x ^= 1,
        None => b.push(1),
    }
}

/// Applies `field` to `pdu`; `None` if the PDU has no such field.
pub fn tamper(pdu: &Pdu, field: Field) -> Option<Pdu> {
    let mut p = pdu.clone();
    match (&mut p, field) {
        (Pdu::RoRequest(r), Field::Signature) => flip(&mut r.signature),
        (Pdu::RoRequest(r), Field::Nonce) => flip(&mut r.nonce),
        (Pdu::RoRequest(r), Field::DeviceId) => {
            let mut h = r.device_id.hash.clone();
            flip(&mut h);
            r.device_id = Identifier { hash: h };
        }
        (Pdu::RoRequest(r), Field::RoIds) => {
            let extra = r.ro_ids.first().cloned().unwrap_or_else(|| "cid:x".into());
            r.ro_ids.push(extra);
        }
        (Pdu::RoRequest(r), Field::Time) => r.time.unix_s += 3_600,
        (Pdu::RegistrationRequest(r), Field::Signature) => flip(&mut r.signature),
        (Pdu::RegistrationRequest(r), Field::Nonce) => flip(&mut r.nonce),
        (Pdu::RegistrationRequest(r), Field::Time) => r.time.unix_s += 3_600,
        (Pdu::MoveDeviceRoRequest(r), Field::Signature) => flip(&mut r.signature),
        (Pdu::MoveDeviceRoRequest(r), Field::Nonce) => flip(&mut r.nonce),
        (Pdu::MoveDeviceRoRequest(r), Field::Time) => r.time.unix_s += 3_600,
        (Pdu::MoveDeviceRoRequest(r), Field::Count) => {
            let moved = r.rights_info.ros.first_mut()?;
            let st = moved.state.get_or_insert_with(Default::default);
            st.count = Some(st.count.unwrap_or(1).saturating_mul(2));
        }
        _ => return None,
    }
    Some(p)
}

/// The fields tried, in the order a random draw indexes them.
pub const FIELDS: [Field; 6] = [
    Field::Signature,
    Field::Nonce,
    Field::DeviceId,
    Field::RoIds,
    Field::Time,
    Field::Count,
];

/// The tampering attacker.
#[derive(Debug)]
pub struct Tamperer {
    spec: AdversarySpec,
    me: Option<ActorId>,
    judge: AnswerJudge,
}

impl Tamperer {
    /// A tamperer configured by `spec`.
    pub fn new(spec: AdversarySpec) -> Self {
        Tamperer {
            spec,
            me: None,
            judge: AnswerJudge::default(),
        }
    }
}

impl Attack for Tamperer {
    fn spec(&self) -> &AdversarySpec {
        &self.spec
    }

    fn intercept(
        &mut self,
        obs: &Observed<'_>,
        msg: SimMsg,
        cx: &mut AttackCx<'_, '_>,
    ) -> Verdict<SimMsg> {
        self.me = Some(cx.me);
        let Some(pdu) = obs.pdu else {
            return Verdict::Pass(msg);
        };
        if request_key(pdu).is_none() || self.judge.full() {
            return Verdict::Pass(msg);
        }
        let start = cx.tap.rng().gen_range(0..FIELDS.len());
        let Some((field, changed)) = (0..FIELDS.len())
            .map(|i| FIELDS[(start + i) % FIELDS.len()])
            .find_map(|f| tamper(pdu, f).map(|p| (f, p)))
        else {
            return Verdict::Pass(msg);
        };
        let Some(key) = request_key(&changed) else {
            return Verdict::Pass(msg);
        };
        let mode = match &msg {
            SimMsg::Pdu(w) if w.xml().is_some() => CryptoMode::Real,
            _ => CryptoMode::Symbolic,
        };
        cx.attempt();
        let label = format!(
            "{} of actor {} with {field:?} modified",
            pdu.kind(),
            obs.from.0
        );
        self.judge.open(obs.to, obs.from, key, obs.now, 1, label);
        Verdict::Pass(SimMsg::Pdu(Wire::new(mode, changed)))
    }

    fn observe(&mut self, obs: &Observed<'_>, stats: &mut AttackStats, out: &mut Vec<TraceEvent>) {
        let Some(me) = self.me else { return };
        if let Some((success, detail)) = self.judge.observe(obs) {
            score(stats, out, me, "tamper", Some(obs.from), success, detail);
        }
    }
}
