//! Hand-written traces. Times are in ns; comments give them in ms.

use std::path::{Path, PathBuf};

/// A small run: two agents, one 2-worker RI (id 10), a DEA (20), an adversary (30).
/// Every metric asserted in the tests is computed by hand in the comments of those tests.
pub const TINY: &[&str] = &[
    r#"{"t":0,"ev":"run_start","schema":1,"seed":7,"scenario":"tiny","crypto":"symbolic"}"#,
    r#"{"t":0,"ev":"actor","id":1,"kind":"agent","name":"agent/1","group":"devices"}"#,
    r#"{"t":0,"ev":"actor","id":2,"kind":"agent","name":"agent/2","group":"devices"}"#,
    r#"{"t":0,"ev":"actor","id":10,"kind":"ri","name":"ri/0","group":"core"}"#,
    r#"{"t":0,"ev":"actor","id":20,"kind":"dea","name":"dea/0","group":"core"}"#,
    r#"{"t":0,"ev":"actor","id":30,"kind":"adversary","name":"mallory","group":"core"}"#,
    // 1.0 ms
    r#"{"t":1000000,"ev":"send","msg":100,"from":1,"to":10,"type":"roap:registrationRequest","bytes":500}"#,
    r#"{"t":1000000,"ev":"timer_set","actor":1,"timer":1,"at":100000000}"#,
    // 1.5 ms
    r#"{"t":1500000,"ev":"send","msg":101,"from":2,"to":10,"type":"roap:roRequest","bytes":400}"#,
    r#"{"t":1500000,"ev":"timer_set","actor":2,"timer":2,"at":9000000}"#,
    // 2.0 ms
    r#"{"t":2000000,"ev":"deliver","msg":100,"from":1,"to":10,"type":"roap:registrationRequest","bytes":500,"latency_ns":1000000}"#,
    r#"{"t":2000000,"ev":"service_start","actor":10,"msg":100,"queue_delay_ns":0,"busy":1,"queue_len":0}"#,
    r#"{"t":2000000,"ev":"send","msg":102,"from":1,"to":10,"type":"roap:roRequest","bytes":400}"#,
    // 2.5 ms
    r#"{"t":2500000,"ev":"deliver","msg":101,"from":2,"to":10,"type":"roap:roRequest","bytes":400,"latency_ns":1000000}"#,
    r#"{"t":2500000,"ev":"service_start","actor":10,"msg":101,"queue_delay_ns":0,"busy":2,"queue_len":0}"#,
    // 3.0 ms
    r#"{"t":3000000,"ev":"deliver","msg":102,"from":1,"to":10,"type":"roap:roRequest","bytes":400,"latency_ns":1000000}"#,
    r#"{"t":3000000,"ev":"enqueue","actor":10,"msg":102,"queue_len":1}"#,
    // 4.0 ms
    r#"{"t":4000000,"ev":"service_end","actor":10,"msg":100,"service_ns":2000000}"#,
    r#"{"t":4000000,"ev":"send","msg":200,"from":10,"to":1,"type":"roap:registrationResponse","bytes":800}"#,
    r#"{"t":4000000,"ev":"service_start","actor":10,"msg":102,"queue_delay_ns":1000000,"busy":2,"queue_len":0}"#,
    // 5.0 ms
    r#"{"t":5000000,"ev":"deliver","msg":200,"from":10,"to":1,"type":"roap:registrationResponse","bytes":800,"latency_ns":1000000}"#,
    r#"{"t":5000000,"ev":"outcome","actor":1,"peer":10,"protocol":"registration","status":"success","latency_ns":4000000,"attempts":1}"#,
    r#"{"t":5000000,"ev":"service_end","actor":10,"msg":101,"service_ns":2500000}"#,
    r#"{"t":5000000,"ev":"send","msg":201,"from":10,"to":2,"type":"roap:roResponse","bytes":1000}"#,
    r#"{"t":5000000,"ev":"timer_cancel","actor":1,"timer":1}"#,
    // 5.5 ms
    r#"{"t":5500000,"ev":"drop","msg":201,"from":10,"to":2,"type":"roap:roResponse","cause":"loss"}"#,
    // 6.0 ms
    r#"{"t":6000000,"ev":"service_end","actor":10,"msg":102,"service_ns":2000000}"#,
    r#"{"t":6000000,"ev":"send","msg":202,"from":10,"to":1,"type":"roap:roResponse","bytes":1000}"#,
    r#"{"t":6000000,"ev":"duplicate","msg":202,"dup":203,"from":10,"to":1,"type":"roap:roResponse"}"#,
    // 7.0 ms
    r#"{"t":7000000,"ev":"drop","msg":203,"from":10,"to":1,"type":"roap:roResponse","cause":"partition"}"#,
    r#"{"t":7000000,"ev":"attack","actor":30,"attack":"replay","target":10,"success":false,"detail":"stale nonce"}"#,
    // 7.5 ms
    r#"{"t":7500000,"ev":"attack","actor":30,"attack":"replay","target":10,"success":true,"detail":"accepted"}"#,
    // 8.0 ms
    r#"{"t":8000000,"ev":"deliver","msg":202,"from":10,"to":1,"type":"roap:roResponse","bytes":1000,"latency_ns":2000000}"#,
    r#"{"t":8000000,"ev":"outcome","actor":1,"peer":10,"protocol":"ro_acquisition","status":"success","latency_ns":6000000,"attempts":1}"#,
    r#"{"t":8000000,"ev":"send","msg":300,"from":1,"to":20,"type":"dea:joinDomainRequest","bytes":300}"#,
    r#"{"t":8000000,"ev":"drop","msg":300,"from":1,"to":20,"type":"dea:joinDomainRequest","cause":"no_route"}"#,
    r#"{"t":8000000,"ev":"violation","invariant":"ro_uniqueness","detail":"two ROs for one request","chain":[100,202]}"#,
    // 9.0 ms
    r#"{"t":9000000,"ev":"timer_fire","actor":2,"timer":2}"#,
    r#"{"t":9000000,"ev":"outcome","actor":2,"peer":10,"protocol":"ro_acquisition","status":"timeout","latency_ns":7500000,"attempts":2}"#,
    r#"{"t":9000000,"ev":"note","actor":2,"text":"giving up"}"#,
    // 9.5 ms
    r#"{"t":9500000,"ev":"outcome","actor":1,"peer":20,"protocol":"join_domain","status":"abandoned","latency_ns":1500000,"attempts":3}"#,
    // 10 ms
    r#"{"t":10000000,"ev":"run_end","reason":"horizon","events":42}"#,
];

/// Joins `lines` into trace text, inserting `"seq":i` into each object.
pub fn trace_text(lines: &[&str]) -> String {
    let mut s = String::new();
    for (i, l) in lines.iter().enumerate() {
        s.push_str(&format!("{{\"seq\":{i},{}\n", &l[1..]));
    }
    s
}

/// Writes `lines` as `dir/trace.jsonl` and returns its path.
pub fn write_trace(dir: &Path, lines: &[&str]) -> PathBuf {
    let p = dir.join("trace.jsonl");
    std::fs::write(&p, trace_text(lines)).unwrap();
    p
}

/// Deterministic pseudo-random numbers (SplitMix64) for crafted samples.
pub struct SplitMix(pub u64);

impl SplitMix {
    /// Next value.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
