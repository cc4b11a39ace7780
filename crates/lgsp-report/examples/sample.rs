//! Writes the sample annual report in every format, to look at:
//! `cargo run -p lgsp-report --example sample --features sample -- /tmp/report`
//! writes bao-cao.html, bao-cao.docx, bao-cao.pdf and bao-cao.xlsx there.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".to_owned()));
    std::fs::create_dir_all(&dir)?;
    let document = lgsp_report::sample::sample();
    let outputs = [
        (
            "bao-cao.html",
            lgsp_report::html::render(&document).into_bytes(),
        ),
        ("bao-cao.docx", lgsp_report::docx::render(&document)),
        ("bao-cao.pdf", lgsp_report::pdf::render(&document)),
        ("bao-cao.xlsx", lgsp_report::xlsx::render(&document)?),
    ];
    for (name, bytes) in outputs {
        let path = dir.join(name);
        std::fs::write(&path, &bytes)?;
        println!("{} ({} bytes)", path.display(), bytes.len());
    }
    Ok(())
}
