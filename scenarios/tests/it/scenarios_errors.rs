//! Malformed scenarios: each must produce exactly the expected message, with
//! file:line:col (hand-counted, 1-based, columns in characters), section, field and,
//! for misspellings, a suggestion.

use scenarios::load_str;

/// Lines 1-8; additions start at line 9.
const BASE: &str = "[scenario]
name = \"t\"
seed = 1
horizon = \"30s\"

[population]
groups = [\"home\", \"core\"]
agents = 5
";

fn err(text: &str) -> String {
    match load_str(text, "bad.toml") {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn unknown_field_suggests_the_closest_name() {
    assert_eq!(
        err(&BASE.replace("horizon", "horizn")),
        "bad.toml:4:1: unknown field `horizn` in [scenario]; did you mean `horizon`?"
    );
    assert_eq!(
        err(&with("agentz = 3\n")),
        "bad.toml:9:1: unknown field `agentz` in [population]; did you mean `agents`?"
    );
    assert_eq!(
        err(&BASE.replace("[population]", "[populaton]")),
        "bad.toml:6:2: unknown field `populaton` at the top level; did you mean `population`?"
    );
    // Nothing close: no suggestion.
    assert_eq!(
        err(&with("frobnicate = 1\n")),
        "bad.toml:9:1: unknown field `frobnicate` in [population]"
    );
}

#[test]
fn unknown_fields_inside_inline_tables_and_arrays_of_tables() {
    // `mediun` starts after `latency = { dist = "lognormal", ` (32 characters).
    assert_eq!(
        err(&with(
            "[network]\nlatency = { dist = \"lognormal\", mediun = \"20ms\", sigma = 0.5 }\n"
        )),
        "bad.toml:10:33: unknown field `mediun` in [network.latency]; did you mean `median`?"
    );
    assert_eq!(
        err(&with(
            "[[network.link]]\nfrom = \"home\"\nto = \"core\"\nlos = 0.1\n"
        )),
        "bad.toml:12:1: unknown field `los` in [network.link[0]]; did you mean `loss`?"
    );
}

#[test]
fn bad_values_name_section_and_field() {
    assert_eq!(
        err(&BASE.replace("\"30s\"", "\"5 parsecs\"")),
        "bad.toml:4:11: [scenario] horizon: invalid duration \"5 parsecs\": unknown unit \
         (expected a number and a unit: ns, us, ms, s, m, h, e.g. \"30s\" or \"250ms\")"
    );
    assert_eq!(
        err(&with("[network]\nloss = 1.5\n")),
        "bad.toml:10:8: [network] loss: probability 1.5 is outside [0, 1]"
    );
    assert_eq!(
        err(&with("[workload]\nmove_probability = 2\n")),
        "bad.toml:10:20: [workload] move_probability: probability 2 is outside [0, 1]"
    );
    assert_eq!(
        err(&BASE.replace("seed = 1", "seed = 1\nrsa_bits = 4096")),
        "bad.toml:4:12: [scenario] rsa_bits: rsa_bits must be 1024 or 2048, not 4096"
    );
    assert_eq!(
        err(&BASE.replace("seed = 1", "seed = -1")),
        "bad.toml:3:8: [scenario] seed: must be a whole number from 0 to 18446744073709551615, not -1"
    );
    assert_eq!(
        err(&with("[population.placement]\nagents = 5\n")),
        "bad.toml:10:10: [population.placement] agents: must be a group name or a list of group names, not 5"
    );
}

#[test]
fn unknown_enum_values_point_at_the_value() {
    // The value of `dist` is at column 20, after `latency = { dist = `.
    assert_eq!(
        err(&with(
            "[network]\nlatency = { dist = \"gausian\", mean = \"20ms\" }\n"
        )),
        "bad.toml:10:20: [network.latency] dist: must be one of \
         `constant`, `uniform`, `exponential`, `lognormal`, `pareto`, not `gausian`"
    );
    assert_eq!(
        err(&BASE.replace(
            "[population]",
            "[population]\narrival = { process = \"poison\", rate_per_s = 3.0 }"
        )),
        "bad.toml:7:23: [population.arrival] process: must be one of \
         `all_at_start`, `poisson`, `ramp`, not `poison`; did you mean `poisson`?"
    );
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"replayr\"\n")),
        "bad.toml:10:8: [adversary[0]] kind: must be one of `replayer`, \
         `move_attacker`, `metering_spoofer`, `tamperer`, `impersonator`, `domain_stuffer`, \
         `ticket_forger`, `flooder`, `rules`, not `replayr`; did you mean `replayer`?"
    );
}

#[test]
fn missing_fields_point_at_their_table() {
    assert_eq!(
        err(&BASE.replace("seed = 1\n", "")),
        "bad.toml:1:2: [scenario] seed: required field is missing"
    );
    assert_eq!(
        err(&with("[[network.link]]\nfrom = \"home\"\n")),
        "bad.toml:9:1: [network.link[0]] to: required field is missing"
    );
    assert_eq!(
        err("[scenario]\nname = \"t\"\nseed = 1\nhorizon = \"30s\"\n"),
        "bad.toml:1:1: population: required field is missing"
    );
}

#[test]
fn syntax_errors_are_located() {
    assert_eq!(
        err("[scenario\n"),
        "bad.toml:1:10: TOML syntax error: unclosed table, expected `]`"
    );
}

#[test]
fn semantic_checks_are_located() {
    assert_eq!(
        err(&with("[[network.link]]\nfrom = \"home\"\nto = \"wan\"\n")),
        "bad.toml:11:6: [network.link[0]] to: unknown group \"wan\" (groups: core, home)"
    );
    assert_eq!(
        err(&with("[population.placement]\nagents = \"homme\"\n")),
        "bad.toml:10:10: [population.placement] agents: unknown group \"homme\" (groups: core, home); did you mean `home`?"
    );
    assert_eq!(
        err(&with(
            "[[network.partition]]\na = [\"home\"]\nb = [\"core\"]\nat = \"5s\"\nheal = \"2s\"\n"
        )),
        "bad.toml:13:8: [network.partition[0]] heal: heal (2s) must be after at (5s)"
    );
    assert_eq!(
        err(&BASE.replace("\"30s\"", "\"0s\"")),
        "bad.toml:4:11: [scenario] horizon: must be greater than zero"
    );
    assert_eq!(
        err(&with(
            "[network]\nlatency = { dist = \"uniform\", min = \"30ms\", max = \"10ms\" }\n"
        )),
        // `max` starts after `latency = { dist = "uniform", min = "30ms", ` (44 characters).
        "bad.toml:10:51: [network.latency] max: max 10ms is smaller than min 30ms"
    );
    assert_eq!(
        err(&with("[network]\nloss = 0.1\n[network.burst_loss]\np_good_to_bad = 0.1\np_bad_to_good = 0.5\n")),
        // `burst_loss` is the second key of the header `[network.burst_loss]`, at column 10.
        "bad.toml:11:10: [network] burst_loss: `loss` and `burst_loss` are exclusive; keep one"
    );
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"replayer\"\nposition = \"compromised\"\nendpoint = \"agent/9\"\n")),
        "bad.toml:12:12: [adversary[0]] endpoint: \"agent/9\" does not exist: the population has 5 agent (indices 0..5), index 9"
    );
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"flooder\"\n")),
        "bad.toml:10:8: [adversary[0]] kind: a flooder needs `rate_per_s`"
    );
    // `"repp"` is the first element of the array, at column 12.
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"replayer\"\nname = \"rep\"\n[expect]\nblocked = [\"repp\"]\n")),
        "bad.toml:13:12: [expect] blocked[0]: no adversary is named \"repp\" (adversaries: rep); did you mean `rep`?"
    );
    assert_eq!(
        err(&with("[workload]\nmax_retries = 1000\n")),
        "bad.toml:10:15: [workload] max_retries: at most 100, not 1000"
    );
}

#[test]
fn message_targets_are_known_pdu_kinds() {
    // `"roap:meteringReportRespons"` is the first element, after `targets = { messages = [`.
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"tamperer\"\ntargets = { messages = [\"roap:meteringReportRespons\"] }\n")),
        "bad.toml:11:25: [adversary[0].targets] messages[0]: unknown message type \"roap:meteringReportRespons\" \
         (e.g. \"roap:roRequest\", or \"roap:*\" for a whole namespace); did you mean `roap:meteringReportResponse`?"
    );
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"tamperer\"\ntargets = { messages = [\"dmp:*\", \"xyz:*\"] }\n")),
        "bad.toml:11:34: [adversary[0].targets] messages[1]: unknown message prefix \"xyz\" in \"xyz:*\" \
         (prefixes: roap, sceroap, dom, gen, dmp)"
    );
}

#[test]
fn network_limits_match_the_network_model() {
    assert_eq!(
        err(&with("[[network.link]]\nfrom = \"home\"\nto = \"home\"\n")),
        "bad.toml:11:6: [network.link[0]] to: a link joins two different groups; traffic inside a group uses the [network] defaults"
    );
    assert_eq!(
        err(&with("[network]\nbuffer_bytes = 65536\n")),
        "bad.toml:10:16: [network] buffer_bytes: a buffer needs `bandwidth_bps` (without a bandwidth nothing queues)"
    );
    // `sigma` starts after `latency = { dist = "lognormal", median = "20ms", ` (12 + 20 + 17 = 49 characters).
    assert_eq!(
        err(&with(
            "[network]\nlatency = { dist = \"lognormal\", median = \"20ms\", sigma = 0 }\n"
        )),
        "bad.toml:10:58: [network.latency] sigma: sigma must be finite and > 0, not 0"
    );
    assert_eq!(
        err(&with(
            "[network]\njitter = { dist = \"constant\", value = \"2h\" }\n"
        )),
        "bad.toml:10:39: [network.jitter] value: value 2h exceeds the limit of 1h"
    );
}

#[test]
fn all_semantic_problems_are_reported_together() {
    let e = err(&BASE.replace("agents = 5", "agents = 5\ndea = 2\nocsp = 3"));
    assert_eq!(
        e,
        "bad.toml:9:7: [population] dea: at most one DEA is supported, not 2\n\
         bad.toml:10:8: [population] ocsp: at most one OCSP responder is supported, not 3"
    );
    let err = load_str(
        &BASE.replace("agents = 5", "agents = 5\ndea = 2\nocsp = 3"),
        "bad.toml",
    )
    .unwrap_err();
    assert_eq!(err.errors().len(), 2);
    assert_eq!(err.location().unwrap().line, 9);
}

#[test]
fn sweep_axes_must_name_real_fields_and_valid_values() {
    assert_eq!(
        err(&with("[sweep]\n\"population.agentz\" = [1, 2]\n")),
        "bad.toml:10:1: [sweep] \"population.agentz\": value 1: names no field: unknown field `agentz` in [population]; did you mean `agents`?"
    );
    assert_eq!(
        err(&with("[sweep]\n\"population.agents\" = [10, \"many\"]\n")),
        "bad.toml:10:28: [sweep] \"population.agents\": value \"many\": must be a whole number from 0 to 4294967295, not the text \"many\""
    );
    assert_eq!(
        err(&with("[sweep]\n\"population.dea\" = [0, 2]\n")),
        "bad.toml:10:24: [sweep] \"population.dea\": value 2: population.dea: at most one DEA is supported, not 2"
    );
    assert_eq!(
        err(&with("[sweep]\nseeds = 0\n")),
        "bad.toml:10:9: [sweep] seeds: must be a whole number from 1 to 10000, not 0"
    );
    assert_eq!(
        err(&with("[sweep]\n\"network.loss\" = 0.1\n")),
        "bad.toml:10:18: [sweep] \"network.loss\": an axis must be an array of values, not 0.1"
    );
    assert_eq!(
        err(&with("[sweep]\n\"network.link.0.loss\" = [0.1]\n")),
        "bad.toml:10:1: [sweep] \"network.link.0.loss\": value 0.1: `network.link` has 0 element(s); index 0 is out of range"
    );
}

#[test]
fn hostile_input_never_panics() {
    for text in [
        "",
        "\u{0}",
        "[[[",
        "a = ",
        "[scenario]\nseed = 99999999999999999999",
        "x = [1, \"a\"]",
        "[sweep]\n\"\" = [1]\n",
        "[sweep]\n\"a..b\" = [1]\n",
    ] {
        assert!(load_str(text, "h.toml").is_err(), "{text:?}");
    }
}

#[test]
fn more_located_rejections() {
    assert_eq!(
        err(&BASE.replace(
            "[population]",
            "[population]\narrival = { process = \"all_at_start\", rate_per_s = 1.0 }"
        )),
        "bad.toml:7:39: unknown field `rate_per_s` in [population.arrival]"
    );
    assert_eq!(
        err(&with("[sweep]\n\"a..b\" = [1]\n")),
        "bad.toml:10:1: [sweep] \"a..b\": value 1: `a..b` is not a dotted field path"
    );
    assert_eq!(
        err(&with("[sweep]\n\"sweep.seeds\" = [1]\n")),
        "bad.toml:10:1: [sweep] \"sweep.seeds\": a sweep cannot sweep itself"
    );
    assert_eq!(
        err(&with("[sweep]\n\"scenario\" = [1]\n")),
        "bad.toml:10:15: [sweep] scenario: value 1: must be a table, such as { name = value }, not 1"
    );
    assert_eq!(
        err(&BASE.replace("agents = 5", "agents = 5\nagents = 6")),
        "bad.toml:9:1: TOML syntax error: duplicate key"
    );
    assert_eq!(
        err(&BASE.replace("agents = 5", "agents = 5000000000")),
        "bad.toml:8:10: [population] agents: must be a whole number from 0 to 4294967295, not 5000000000"
    );
    assert_eq!(
        err(&with("[costs.ri]\noverflow = \"dorp\"\n")),
        "bad.toml:10:12: [costs.ri] overflow: must be `drop` or `reject`, not `dorp`; did you mean `drop`?"
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"tamperer\"\nposition = \"on_path\"\nlinks = [[\"home\"]]\n"
        )),
        "bad.toml:12:10: [adversary[0]] links[0]: must be a list of 2 values, not a list of 1"
    );
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"tamperer\"\ntargets = { actors = [\"agnet/1\"] }\n")),
        "bad.toml:11:23: [adversary[0].targets] actors[0]: unknown actor kind \"agnet\" in \"agnet/1\" \
         (kinds: ri, ocsp, dea, lrm, agent, sce_agent); did you mean `agent`?"
    );
    assert_eq!(
        err(&with("[expect]\ninvariants = [\"No Replay\"]\n")),
        "bad.toml:10:15: [expect] invariants[0]: \"No Replay\" is not a snake_case invariant name"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "{BASE}x = {}1{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = err(&deep);
    assert!(e.starts_with("bad.toml:9:"), "{e}");
    let deep_tables = format!(
        "{BASE}y = {}1{}\n",
        "{ a = ".repeat(50_000),
        " }".repeat(50_000)
    );
    assert!(err(&deep_tables).starts_with("bad.toml:9:"));
}

#[test]
fn replay_to_and_reserialise_are_checked() {
    // Lines 9-11: `[[adversary]]`, `kind`, the field under test.
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"replayer\"\nreplay_to = \"ri/3\"\n")),
        "bad.toml:11:13: [adversary[0]] replay_to: must be \"same\", \"other\" or an actor name or pattern: \
         \"ri/3\" does not exist: the population has 1 ri (indices 0..1), index 3"
    );
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"replayer\"\nreplay_to = \"agnt/*\"\n")),
        "bad.toml:11:13: [adversary[0]] replay_to: must be \"same\", \"other\" or an actor name or pattern: \
         unknown actor kind \"agnt\" in \"agnt/*\" (kinds: ri, ocsp, dea, lrm, agent, sce_agent); did you mean `agent`?"
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"tamperer\"\nreplay_to = \"other\"\n"
        )),
        "bad.toml:11:13: [adversary[0]] replay_to: `replay_to` applies to replayers, not tamperer"
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"metering_spoofer\"\nreserialise = true\n"
        )),
        "bad.toml:11:15: [adversary[0]] reserialise: `reserialise` applies to tamperers and replayers, not metering_spoofer"
    );
    // Accepted forms.
    for to in ["same", "other", "ri/0", "agent/*"] {
        let text = with(&format!(
            "[[adversary]]\nkind = \"replayer\"\nreplay_to = \"{to}\"\n"
        ));
        assert!(load_str(&text, "ok.toml").is_ok(), "{to}");
    }
}

#[test]
fn move_attack_is_checked() {
    // Lines 9-11: `[[adversary]]`, `kind`, the field under test (then position lines).
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"move_attacker\"\nmove_attack = \"rollbak\"\nposition = \"compromised\"\nendpoint = \"agent/0\"\n"
        )),
        "bad.toml:11:15: [adversary[0]] move_attack: unknown Move attack \"rollbak\" (one of \"auto\", \
         \"replay_request\", \"drop_response\", \"delay_response\", \"replay_old_response\", \
         \"concurrent\", \"rollback\")"
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"replayer\"\nmove_attack = \"concurrent\"\n"
        )),
        "bad.toml:11:15: [adversary[0]] move_attack: `move_attack` applies to move_attackers, not replayer"
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"move_attacker\"\nmove_attack = \"concurrent\"\nposition = \"on_path\"\nlinks = [[\"home\", \"core\"]]\n"
        )),
        "bad.toml:11:15: [adversary[0]] move_attack: move_attack \"concurrent\" acts as a compromised \
         Device: needs position = \"compromised\", not on_path"
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"move_attacker\"\nmove_attack = \"delay_response\"\nposition = \"compromised\"\nendpoint = \"agent/0\"\n"
        )),
        "bad.toml:11:15: [adversary[0]] move_attack: move_attack \"delay_response\" is an on-path \
         attack: needs position = \"on_path\", not compromised"
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"move_attacker\"\nmove_attack = \"rollback\"\nposition = \"compromised\"\nendpoint = \"ri/0\"\n"
        )),
        "bad.toml:13:12: [adversary[0]] endpoint: move_attack \"rollback\" needs a compromised Device \
         (`agent/N`), not \"ri/0\""
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"flooder\"\nrate_per_s = 1.0\nreplay_delay = \"1s\"\n"
        )),
        "bad.toml:12:16: [adversary[0]] replay_delay: `replay_delay` applies to replayers and \
         move_attackers, not flooder"
    );
    assert_eq!(
        err(&with(
            "[[adversary]]\nkind = \"move_attacker\"\nmove_attack = \"rollback\"\nposition = \"compromised\"\nendpoint = \"agent/0\"\nreplay_delay = \"1s\"\n"
        )),
        "bad.toml:14:16: [adversary[0]] replay_delay: move_attack \"rollback\" takes no `replay_delay` \
         (only auto, replay_request, delay_response)"
    );
    // Accepted forms.
    for (mode, pos) in [
        (
            "auto",
            "position = \"on_path\"\nlinks = [[\"home\", \"core\"]]\n",
        ),
        (
            "delay_response",
            "position = \"on_path\"\nlinks = [[\"home\", \"core\"]]\nreplay_delay = \"30s\"\n",
        ),
        (
            "rollback",
            "position = \"compromised\"\nendpoint = \"agent/0\"\n",
        ),
    ] {
        let text = with(&format!(
            "[[adversary]]\nkind = \"move_attacker\"\nmove_attack = \"{mode}\"\n{pos}"
        ));
        assert!(
            load_str(&text, "ok.toml").is_ok(),
            "{mode}: {:?}",
            load_str(&text, "ok.toml").err()
        );
    }
}

#[test]
fn impersonate_is_checked() {
    let imp = |mode: &str, endpoint: &str| {
        format!(
            "[[adversary]]\nkind = \"impersonator\"\nimpersonate = \"{mode}\"\nposition = \"compromised\"\nendpoint = \"{endpoint}\"\n"
        )
    };
    // Lines 9-11: `[[adversary]]`, `kind`, `impersonate`.
    assert_eq!(
        err(&with(&imp("stolen", "agent/0"))),
        "bad.toml:11:15: [adversary[0]] impersonate: unknown impersonation \"stolen\" (one of \
         \"claim_id\", \"revoked\", \"wrong_purpose\")"
    );
    assert_eq!(
        err(&with("[[adversary]]\nkind = \"replayer\"\nimpersonate = \"revoked\"\n")),
        "bad.toml:11:15: [adversary[0]] impersonate: `impersonate` applies to impersonators, not replayer"
    );
    // No agent is revoked: the endpoint's Successes would be scored as the attack's.
    assert_eq!(
        err(&with(&imp("revoked", "agent/1"))),
        "bad.toml:11:15: [adversary[0]] impersonate: impersonate \"revoked\" needs its endpoint \
         \"agent/1\" revoked: population.revoked_agents = 0 revokes the first 0 agents \
         (agent/0.., then sce_agent/0..)"
    );
    // Line 9 adds `revoked_agents` to [population]; the adversary starts at line 10.
    assert_eq!(
        err(&with(&format!(
            "revoked_agents = 1\n{}",
            imp("revoked", "agent/1")
        ))),
        "bad.toml:12:15: [adversary[0]] impersonate: impersonate \"revoked\" needs its endpoint \
         \"agent/1\" revoked: population.revoked_agents = 1 revokes the first 1 agents \
         (agent/0.., then sce_agent/0..)"
    );
    assert!(load_str(
        &with(&format!(
            "revoked_agents = 2\n{}",
            imp("revoked", "agent/1")
        )),
        "ok.toml"
    )
    .is_ok());
    assert_eq!(
        err(&with("revoked_agents = 6\n")),
        "bad.toml:9:18: [population] revoked_agents: 6 revoked agents but only 5 agents"
    );
    assert_eq!(
        err(&with(&imp("wrong_purpose", "agent/0"))),
        "bad.toml:11:15: [adversary[0]] impersonate: impersonate \"wrong_purpose\" needs a DEA \
         (population.dea = 1) with at least one User Domain (user_domains.count)"
    );
    // Lines 9-10 add the DEA and its User Domain; `endpoint` is line 16.
    assert_eq!(
        err(&with(&format!(
            "dea = 1\n[user_domains]\ncount = 1\n{}",
            imp("wrong_purpose", "ri/0")
        ))),
        "bad.toml:16:12: [adversary[0]] endpoint: impersonate \"wrong_purpose\" needs a compromised \
         Device (`agent/N` or `sce_agent/N`), not \"ri/0\""
    );
    assert!(load_str(
        &with(&format!(
            "dea = 1\n[user_domains]\ncount = 1\n{}",
            imp("wrong_purpose", "agent/0")
        )),
        "ok.toml"
    )
    .is_ok());
}
