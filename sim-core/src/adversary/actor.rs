//! Adversary actors and installing adversaries into a built run.

use super::{
    attack_for, AdversaryKind, AdversarySpec, AdversaryTap, Layout, Position, Shared, SharedRef,
};
use crate::engine::{Actor, ActorId, ActorSpec, CpuSpec, Ctx, Event, SimTime, Simulation};
use crate::invariant::{MonitorSet, Roster};
use crate::pdu::roap::RoRequest;
use crate::pdu::{Identifier, Pdu};
use crate::proto::msg::{SimMsg, Wire};
use crate::proto::world::World;
use std::cell::RefCell;
use std::rc::Rc;

const TAG_FLOOD: u64 = 1;
/// Timer tags of flood rules: `TAG_RULE + rule index`.
const TAG_RULE: u64 = 1_000;

/// A flood rule of a programmable attacker, run by its actor.
struct RuleFlood {
    rule: usize,
    to: ActorId,
    sent: u64,
}

/// An adversary as an actor: names it in the trace; the flooder sends from here.
pub struct AdversaryActor {
    world: Rc<World>,
    spec: AdversarySpec,
    target: Option<ActorId>,
    sent: u64,
    /// Device IDs that are public (from certificates); flood requests claim them so the RI
    /// must verify a signature before refusing.
    victims: Vec<Identifier>,
    /// Flood rules (programmable attacker).
    floods: Vec<RuleFlood>,
    /// Attempts to count and flood PDUs awaiting an answer, shared with the attack.
    flood_handles: Option<FloodHandles>,
}

/// The attempt counter and the unanswered flood PDUs, shared with the attack's referee.
type FloodHandles = (
    Rc<std::cell::Cell<u64>>,
    Rc<RefCell<std::collections::VecDeque<SimTime>>>,
);

impl AdversaryActor {
    /// The actor of `spec`; `target` is the server a flooder sends to.
    pub fn new(world: Rc<World>, spec: AdversarySpec, target: Option<ActorId>) -> Self {
        AdversaryActor {
            world,
            spec,
            target,
            sent: 0,
            victims: Vec::new(),
            floods: Vec::new(),
            flood_handles: None,
        }
    }

    /// One step of flood rule `k`: send if inside its window and budget, then re-arm.
    fn flood_rule(&mut self, k: usize, ctx: &mut Ctx<'_, SimMsg>) {
        use super::rules::Action;
        let Some(f) = self.floods.get(k) else { return };
        let rule = &self.spec.rules[f.rule];
        let Action::Flood {
            kind,
            rate_per_s,
            edits,
            ..
        } = &rule.then
        else {
            return;
        };
        let now = ctx.now().as_ns();
        if now >= rule.when.to_ns || f.sent >= rule.budget {
            return;
        }
        let (to, period) = (f.to, ((1e9 / rate_per_s.max(1e-9)) as u64).max(1));
        if now >= rule.when.from_ns {
            let Some((count, open)) = &self.flood_handles else {
                return;
            };
            let total = count.get() + self.sent;
            if total >= self.spec.budget {
                return;
            }
            if let Some(m) = super::rules::flood_pdu(&self.world, kind, edits, ctx.rng()) {
                ctx.send(to, m);
                count.set(count.get() + 1);
                if open.borrow().len() < super::rules::MAX_OPEN_INVARIANT_ATTEMPTS {
                    open.borrow_mut().push_back(ctx.now());
                }
                self.floods[k].sent += 1;
            }
        }
        let next = if now < rule.when.from_ns {
            rule.when.from_ns - now
        } else {
            period
        };
        ctx.set_timer(next, TAG_RULE + k as u64);
    }

    /// Flood requests sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    fn period_ns(&self) -> u64 {
        let rate = self.spec.rate_per_s.unwrap_or(1.0).max(1e-9);
        ((1e9 / rate) as u64).max(1)
    }

    fn flood(&mut self, ctx: &mut Ctx<'_, SimMsg>) {
        let now = ctx.now();
        if now.as_ns() >= self.spec.to_ns || self.sent >= self.spec.budget {
            return;
        }
        let Some(to) = self.target else { return };
        if now.as_ns() >= self.spec.from_ns {
            let ri = self.world.ri_by_actor(to).map(|(_, r)| r.id.clone());
            // A registered Device's public ID with a fresh nonce and a junk signature (the RI
            // pays a signature verification to refuse it); a random ID if none is known.
            let device_id = if self.victims.is_empty() {
                let mut id = vec![0u8; 20];
                rand::RngCore::fill_bytes(ctx.rng(), &mut id);
                Identifier { hash: id }
            } else {
                let i = self.sent as usize % self.victims.len();
                self.victims[i].clone()
            };
            let req = RoRequest {
                trigger_nonce: None,
                device_id,
                domain_id: None,
                ri_id: ri.unwrap_or_default(),
                nonce: self.world.nonce(ctx.rng()),
                time: self.world.datetime(now.as_ns()),
                ro_ids: vec!["cid:flood".into()],
                dcf_hash: None,
                certificate_chain: None,
                extensions: Vec::new(),
                signature: vec![0u8; 128],
            };
            ctx.send(
                to,
                SimMsg::Pdu(Wire::new(self.world.mode(), Pdu::RoRequest(req))),
            );
            self.sent += 1;
        }
        let next = if now.as_ns() < self.spec.from_ns {
            self.spec.from_ns - now.as_ns()
        } else {
            self.period_ns()
        };
        ctx.set_timer(next, TAG_FLOOD);
    }
}

impl Actor<SimMsg> for AdversaryActor {
    fn on_event(&mut self, ev: Event<SimMsg>, ctx: &mut Ctx<'_, SimMsg>) {
        match ev {
            Event::Start if self.spec.kind == AdversaryKind::Flooder => self.flood(ctx),
            Event::Timer { tag: TAG_FLOOD, .. } => self.flood(ctx),
            Event::Start => {
                for k in 0..self.floods.len() {
                    self.flood_rule(k, ctx);
                }
            }
            Event::Timer { tag, .. } if tag >= TAG_RULE => {
                self.flood_rule((tag - TAG_RULE) as usize, ctx)
            }
            _ => {}
        }
    }
}

/// Why adversaries could not be installed (always fatal for the run).
#[derive(Debug, thiserror::Error)]
pub enum AdversaryError {
    /// The kind needs a protocol this build does not run yet.
    #[error("adversary {name}: kind {kind} is not supported by this build ({why})")]
    Unsupported {
        /// Adversary name.
        name: String,
        /// Kind.
        kind: &'static str,
        /// What is missing.
        why: &'static str,
    },
    /// A flooder needs a target server.
    #[error("adversary {0}: no target server among its target actors")]
    NoTarget(String),
}

impl AdversaryError {
    /// Installation errors stop the run.
    pub fn is_fatal(&self) -> bool {
        true
    }
}

/// The adversaries and monitors of a run, after installation.
pub struct Installed {
    /// Scoreboards, monitors and message ids.
    pub shared: SharedRef,
    /// Adversary actors, in spec order.
    pub actors: Vec<ActorId>,
    /// Actors the offline checks look at.
    pub roster: Roster,
}

impl Installed {
    /// Runs the offline invariant checks (call after the run, before `finish`).
    pub fn check_end(&self, sim: &mut Simulation<SimMsg>) {
        let records = {
            let mut sh = self.shared.borrow_mut();
            let Shared {
                monitors,
                ids,
                end_checks,
                stats,
                violation_log,
                ..
            } = &mut *sh;
            let sh_log = violation_log.clone();
            // The invariants first: end checks that score by them read the log.
            let mut records = monitors.at_end(sim, &self.roster, ids);
            {
                let mut log = sh_log.borrow_mut();
                log.clear();
                log.extend(
                    monitors
                        .violations
                        .iter()
                        .map(|v| (v.t_ns, v.invariant.clone())),
                );
            }
            for (name, me, check) in end_checks.iter_mut() {
                let st = stats.entry(name.clone()).or_default();
                for (success, detail, target) in check(sim, &self.roster) {
                    super::score(st, &mut records, *me, name, target, success, detail);
                }
            }
            // Scored once: a second check_end must not count the attempts again.
            end_checks.clear();
            records
        };
        for ev in records {
            sim.record(ev);
        }
    }
}

/// A programmable attacker whose actor `me` runs its flood rules.
fn rules_attack(
    sim: &mut Simulation<SimMsg>,
    world: &Rc<World>,
    layout: &Layout,
    s: &AdversarySpec,
    me: ActorId,
    log: super::rules::ViolationLog,
) -> Result<(Box<dyn super::Attack>, Option<super::EndCheck>), AdversaryError> {
    use super::rules::{Action, Programmable};
    let key = match s.position {
        Position::Compromised { endpoint } => super::compromised_key(sim, endpoint),
        _ => None,
    };
    let (attack, check) = Programmable::new(s.clone(), world.clone(), me, key, log);
    let mut floods = Vec::new();
    for (i, r) in s.rules.iter().enumerate() {
        if let Action::Flood { to, .. } = &r.then {
            let target = (0..layout.names.len() as u32)
                .map(ActorId)
                .find(|&a| super::pattern_matches(to, layout.name(a), '/'))
                .ok_or_else(|| AdversaryError::NoTarget(s.name.clone()))?;
            floods.push(RuleFlood {
                rule: i,
                to: target,
                sent: 0,
            });
        }
    }
    if let Some(a) = sim.actor_mut::<AdversaryActor>(me) {
        a.floods = floods;
        a.flood_handles = Some(attack.flood_handles());
    }
    Ok((Box::new(attack), Some(check)))
}

/// Adds one actor per adversary, installs the composite tap (attacks + `monitors`) and the
/// trace observer that learns message ids. `layout` lists every existing actor's group and
/// name; `roster` the actors the offline checks inspect.
pub fn install(
    sim: &mut Simulation<SimMsg>,
    world: &Rc<World>,
    mut layout: Layout,
    roster: Roster,
    specs: &[AdversarySpec],
    monitors: MonitorSet,
) -> Result<Installed, AdversaryError> {
    let shared: SharedRef = Rc::new(RefCell::new(Shared {
        monitors,
        ..Shared::default()
    }));
    let mut attacks = Vec::new();
    let mut actors = Vec::new();
    for s in specs {
        let group = match &s.position {
            Position::OnPath { links } => links.first().map_or(crate::net::GroupId(0), |l| l.0),
            Position::OffPath { group } => *group,
            Position::Compromised { endpoint } => layout.group(*endpoint),
        };
        let target = if s.kind == AdversaryKind::Flooder {
            let t = (0..layout.names.len() as u32)
                .map(ActorId)
                .find(|&a| {
                    let n = layout.name(a);
                    (n.starts_with("ri/") || n.starts_with("dea/"))
                        && !s.actors.is_empty()
                        && s.targets_actor(n)
                })
                .or_else(|| world.ris.first().map(|r| r.actor));
            Some(t.ok_or_else(|| AdversaryError::NoTarget(s.name.clone()))?)
        } else {
            None
        };
        let group_name = format!("g{}", group.0);
        let mut actor = AdversaryActor::new(world.clone(), s.clone(), target);
        actor.victims = roster
            .agents
            .iter()
            .filter_map(|&a| sim.actor::<crate::proto::agent::Agent>(a))
            .map(|a| a.identity().id.clone())
            .collect();
        let id = sim.add_actor(
            ActorSpec {
                name: format!("adversary/{}", s.name),
                kind: "adversary".into(),
                group,
                group_name,
                cpu: CpuSpec::UNLIMITED,
                start_at: SimTime::ZERO,
            },
            Box::new(actor),
        );
        layout.groups.push(group);
        layout.names.push(format!("adversary/{}", s.name));
        shared.borrow_mut().stats.entry(s.name.clone()).or_default();
        let device_ids: Vec<Identifier> = roster
            .agents
            .iter()
            .filter_map(|&a| sim.actor::<crate::proto::agent::Agent>(a))
            .map(|a| a.identity().id.clone())
            .collect();
        let violation_log = shared.borrow().violation_log.clone();
        let (attack, end_check) = if s.kind == AdversaryKind::Rules {
            rules_attack(sim, world, &layout, s, id, violation_log)?
        } else {
            let bcx = super::BuildCx {
                sim,
                world,
                device_ids: &device_ids,
                violation_log,
            };
            attack_for(s, id, &bcx)?
        };
        if let Some(c) = end_check {
            shared.borrow_mut().end_checks.push((s.name.clone(), id, c));
        }
        attacks.push((attack, id));
        actors.push(id);
    }
    let mut hooks: Vec<_> = attacks
        .iter_mut()
        .filter_map(|(a, _)| a.after_event())
        .collect();
    if !hooks.is_empty() {
        sim.set_after_event(Box::new(move |sim| hooks.iter_mut().for_each(|h| h(sim))));
    }
    sim.set_tap(Box::new(AdversaryTap::new(attacks, layout, shared.clone())));
    let sh = shared.clone();
    sim.trace_mut()
        .observe(Box::new(move |rec| sh.borrow_mut().on_record(rec)));
    Ok(Installed {
        shared,
        actors,
        roster,
    })
}
