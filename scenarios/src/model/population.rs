//! `[population]`, `[population.placement]` and the agent arrival process.

use crate::units::DurationNs;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Actor groups and how many actors of each kind exist.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Names of the network groups (topology nodes).
    pub groups: Vec<String>,
    /// Plain DRM Agents.
    #[serde(default)]
    pub agents: u32,
    /// DRM Agents with Secure Content Exchange support.
    #[serde(default)]
    pub sce_agents: u32,
    /// Rights Issuers.
    #[serde(default = "one")]
    pub ris: u32,
    /// Local Rights Managers.
    #[serde(default)]
    pub lrms: u32,
    /// Domain Enforcement Agent (0 or 1).
    #[serde(default)]
    pub dea: u32,
    /// OCSP responder (0 or 1).
    #[serde(default = "one")]
    pub ocsp: u32,
    /// Which group(s) each kind lives in (default: the first group).
    #[serde(default)]
    pub placement: Placement,
    /// When agents appear.
    #[serde(default)]
    pub arrival: Arrival,
    /// The first `revoked_agents` agents in actor order (`agent/0..`, then `sce_agent/0..`)
    /// have certificates revoked from t = 0 (issue 6, impersonator `revoked`).
    #[serde(default)]
    pub revoked_agents: u32,
}

fn one() -> u32 {
    1
}

impl Population {
    /// Total number of protocol actors.
    pub fn actor_count(&self) -> u64 {
        [
            self.agents,
            self.sce_agents,
            self.ris,
            self.lrms,
            self.dea,
            self.ocsp,
        ]
        .iter()
        .map(|&n| n as u64)
        .sum()
    }

    /// How many actors of `kind` exist.
    pub fn count(&self, kind: ActorKind) -> u32 {
        match kind {
            ActorKind::Agent => self.agents,
            ActorKind::SceAgent => self.sce_agents,
            ActorKind::Ri => self.ris,
            ActorKind::Lrm => self.lrms,
            ActorKind::Dea => self.dea,
            ActorKind::Ocsp => self.ocsp,
        }
    }

    /// The groups actors of `kind` are spread over (round-robin by index).
    pub fn groups_of(&self, kind: ActorKind) -> Vec<String> {
        match self.placement.get(kind) {
            Some(list) if !list.0.is_empty() => list.0.clone(),
            _ => self.groups.iter().take(1).cloned().collect(),
        }
    }

    /// The group of actor `kind/index`.
    pub fn group_of(&self, kind: ActorKind, index: u32) -> Option<String> {
        let groups = self.groups_of(kind);
        (!groups.is_empty()).then(|| groups[index as usize % groups.len()].clone())
    }
}

/// The protocol actor kinds; `name()` is the prefix of actor names such as `agent/17`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActorKind {
    /// DRM Agent.
    Agent,
    /// SCE-capable DRM Agent.
    SceAgent,
    /// Rights Issuer.
    Ri,
    /// Local Rights Manager.
    Lrm,
    /// Domain Enforcement Agent.
    Dea,
    /// OCSP responder.
    Ocsp,
}

impl ActorKind {
    /// Every kind, in actor-id order.
    pub const ALL: [ActorKind; 6] = [
        ActorKind::Ri,
        ActorKind::Ocsp,
        ActorKind::Dea,
        ActorKind::Lrm,
        ActorKind::Agent,
        ActorKind::SceAgent,
    ];

    /// Name prefix (`agent`, `sce_agent`, `ri`, `lrm`, `dea`, `ocsp`).
    pub fn name(self) -> &'static str {
        match self {
            ActorKind::Agent => "agent",
            ActorKind::SceAgent => "sce_agent",
            ActorKind::Ri => "ri",
            ActorKind::Lrm => "lrm",
            ActorKind::Dea => "dea",
            ActorKind::Ocsp => "ocsp",
        }
    }

    /// The kind with name prefix `s`.
    pub fn from_name(s: &str) -> Option<ActorKind> {
        ActorKind::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// `[population.placement]`: one group name or a list of group names per kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Placement {
    /// Groups of the agents.
    pub agents: Option<GroupList>,
    /// Groups of the SCE agents.
    pub sce_agents: Option<GroupList>,
    /// Groups of the RIs.
    pub ris: Option<GroupList>,
    /// Groups of the LRMs.
    pub lrms: Option<GroupList>,
    /// Group of the DEA.
    pub dea: Option<GroupList>,
    /// Group of the OCSP responder.
    pub ocsp: Option<GroupList>,
}

impl Placement {
    /// The placement of `kind`, if given.
    pub fn get(&self, kind: ActorKind) -> Option<&GroupList> {
        match kind {
            ActorKind::Agent => self.agents.as_ref(),
            ActorKind::SceAgent => self.sce_agents.as_ref(),
            ActorKind::Ri => self.ris.as_ref(),
            ActorKind::Lrm => self.lrms.as_ref(),
            ActorKind::Dea => self.dea.as_ref(),
            ActorKind::Ocsp => self.ocsp.as_ref(),
        }
    }

    /// The TOML key of `kind` in this table.
    pub fn key(kind: ActorKind) -> &'static str {
        match kind {
            ActorKind::Agent => "agents",
            ActorKind::SceAgent => "sce_agents",
            ActorKind::Ri => "ris",
            ActorKind::Lrm => "lrms",
            ActorKind::Dea => "dea",
            ActorKind::Ocsp => "ocsp",
        }
    }
}

/// A group name (`"home"`) or a list of them (`["home", "mobile"]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct GroupList(pub Vec<String>);

impl<'de> Deserialize<'de> for GroupList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = GroupList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a group name or a list of group names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GroupList, E> {
                Ok(GroupList(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GroupList, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(GroupList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// When agents appear, tagged by `process`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "process", rename_all = "snake_case", deny_unknown_fields)]
pub enum Arrival {
    /// Every agent exists at t = 0 (a struct variant so unknown keys are rejected).
    AllAtStart {},
    /// Agents arrive as a Poisson process until all have arrived.
    Poisson {
        /// Mean arrivals per second (> 0).
        rate_per_s: f64,
    },
    /// Agents arrive evenly spaced over `over`.
    Ramp {
        /// Time over which all agents arrive (> 0).
        over: DurationNs,
    },
}

impl Default for Arrival {
    fn default() -> Self {
        Arrival::AllAtStart {}
    }
}
