use scenarios::load_str;

fn err(text: &str) -> String {
    load_str(text, "bad.toml").unwrap_err().to_string()
}

const BASE: &str = "[scenario]\nname = \"t\"\nseed = 1\nhorizon = \"30s\"\n\n[population]\ngroups = [\"home\", \"core\"]\nagents = 5\n";

#[test]
fn probe() {
    let cases = [
        BASE.replace("horizon", "horizn"),
        BASE.replace("\"30s\"", "\"5 parsecs\""),
        BASE.replace("agents = 5", "agents = 5\nagentz = 3"),
        BASE.replace("seed = 1\n", ""),
        format!("{BASE}[network]\nlatency = {{ dist = \"lognormal\", mediun = \"20ms\", sigma = 0.5 }}\n"),
        format!("{BASE}[network]\nlatency = {{ dist = \"gausian\", mean = \"20ms\" }}\n"),
        format!("{BASE}[network]\nloss = 1.5\n"),
        format!("{BASE}[[network.link]]\nfrom = \"home\"\nto = \"wan\"\n"),
        format!("{BASE}[[network.link]]\nfrom = \"home\"\n"),
        format!("{BASE}[[network.link]]\nfrom = \"home\"\nto = \"core\"\nlos = 0.1\n"),
        format!("{BASE}[population.placement]\nagents = 5\n"),
        format!("{BASE}[expect]\nmin_completion = {{ registraton = 0.9 }}\n"),
        format!("{BASE}[workload]\nmove_probability = 2\n"),
        format!("{BASE}[sweep]\n\"population.agentz\" = [1, 2]\n"),
        format!("{BASE}[[adversary]]\nkind = \"replayr\"\n"),
        format!("{BASE}foo = 1\n"),
        BASE.replace("[population]", "[populaton]"),
        "[scenario\n".to_string(),
        format!("{BASE}[[network.partition]]\na=[\"home\"]\nb=[\"core\"]\nat=\"5s\"\nheal=\"2s\"\n"),
    ];
    for c in cases {
        println!("{}\n", err(&c));
    }
    panic!();
}
