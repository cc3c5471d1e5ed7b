//! Writes the message sequence chart of one actor: `msc_check RUN_DIR ACTOR`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(args.get(1).ok_or("usage: msc_check RUN_DIR ACTOR")?);
    let actor: u32 = args
        .get(2)
        .ok_or("usage: msc_check RUN_DIR ACTOR")?
        .parse()?;
    let p = analysis::export_msc(&dir, &analysis::MscOptions::new(actor))?;
    println!("{}\n{}", p.mermaid.display(), p.svg.display());
    Ok(())
}
