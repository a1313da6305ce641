//! Compresses the built frontend once, at build time, at maximum quality:
//! `<file>.br` (brotli 11) and `<file>.gz` (gzip 9) beside each text or
//! WASM file, which `spa` serves as they are (`ServeDir::precompressed_br`).
//! Compressing a 2 MB WASM at brotli 11 on every request would take seconds.

use std::io::Write;
use std::path::{Path, PathBuf};

/// What is worth compressing: the app's code, styles and markup.
const COMPRESSIBLE: &[&str] = &["wasm", "js", "css", "html", "svg", "json", "txt"];

/// One file and its sizes in bytes: as built, at brotli 11, at gzip 9.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compressed {
    pub path: PathBuf,
    pub raw: u64,
    pub brotli: u64,
    pub gzip: u64,
}

/// Writes the `.br` and `.gz` of every compressible file under `site_dir`
/// (again, so that a rebuilt file never keeps an old copy).
pub fn precompress(site_dir: &Path) -> std::io::Result<Vec<Compressed>> {
    let mut done = Vec::new();
    for path in files(site_dir)? {
        let compressible = path.extension().and_then(|e| e.to_str()).is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible {
            continue;
        }
        let raw = std::fs::read(&path)?;
        let brotli = brotli_11(&raw)?;
        let gzip = gzip_9(&raw)?;
        write_beside(&path, "br", &brotli)?;
        write_beside(&path, "gz", &gzip)?;
        done.push(Compressed { path, raw: raw.len() as u64, brotli: brotli.len() as u64, gzip: gzip.len() as u64 });
    }
    done.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(done)
}

/// The files a browser fetches for the first page: `index.html` and what
/// it links to (the WASM, its JS loader, the CSS, the icon).
pub fn first_load<'a>(site_dir: &Path, compressed: &'a [Compressed]) -> std::io::Result<Vec<&'a Compressed>> {
    let html = std::fs::read_to_string(site_dir.join("index.html"))?;
    let linked = linked_paths(&html);
    Ok(compressed
        .iter()
        .filter(|c| {
            let relative = c.path.strip_prefix(site_dir).ok().and_then(Path::to_str).unwrap_or_default();
            relative == "index.html" || linked.iter().any(|l| l == relative)
        })
        .collect())
}

/// Issue 16's budget (P4) for the first load, compressed as served.
pub const FIRST_LOAD_BUDGET: u64 = 250_000;

/// What the command prints: each file of the first load, then their total beside the budget.
pub fn describe(site_dir: &Path, compressed: &[Compressed]) -> std::io::Result<Vec<String>> {
    let first = first_load(site_dir, compressed)?;
    let mut lines: Vec<String> = first
        .iter()
        .map(|c| {
            let name = c.path.strip_prefix(site_dir).unwrap_or(&c.path).display();
            format!("  {name}: {} raw, {} brotli 11, {} gzip 9", bytes(c.raw), bytes(c.brotli), bytes(c.gzip))
        })
        .collect();
    let total: u64 = first.iter().map(|c| c.brotli).sum();
    let verdict = if total <= FIRST_LOAD_BUDGET {
        format!("within it by {}", bytes(FIRST_LOAD_BUDGET - total))
    } else {
        format!("over it by {} ({:.2}x)", bytes(total - FIRST_LOAD_BUDGET), total as f64 / FIRST_LOAD_BUDGET as f64)
    };
    lines.push(format!("first load as served (brotli 11): {} against a budget of {}: {verdict}", bytes(total), bytes(FIRST_LOAD_BUDGET)));
    Ok(lines)
}

/// 407593 as "407,593 B".
fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out + " B"
}

/// The same-origin paths in `href="/…"` and `src="/…"` attributes, without the leading slash.
fn linked_paths(html: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for attribute in ["href=\"/", "src=\"/", "href='/", "src='/"] {
        let quote = if attribute.ends_with("\"/") { '"' } else { '\'' };
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            if let Some(end) = rest.find(quote) {
                let path = rest[..end].split(['?', '#']).next().unwrap_or_default();
                if !path.is_empty() && !paths.iter().any(|p| p == path) {
                    paths.push(path.to_string());
                }
            }
        }
    }
    paths
}

fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(files(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

fn brotli_11(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 24, ..Default::default() };
    brotli::BrotliCompress(&mut &raw[..], &mut out, &params)?;
    Ok(out)
}

fn gzip_9(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(raw)?;
    encoder.finish()
}

/// Written whole, then renamed: a server reading the folder never sees half a file.
fn write_beside(path: &Path, suffix: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{suffix}"));
    let target = PathBuf::from(name);
    let mut partial = target.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, &target)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn every_compressible_file_gets_a_brotli_and_a_gzip_copy_that_decompress_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = b"\0asm wasm body ".repeat(500);
        std::fs::write(dir.path().join("app_bg.wasm"), &wasm).unwrap();
        std::fs::create_dir(dir.path().join("public")).unwrap();
        std::fs::write(dir.path().join("public/icon.svg"), "<svg></svg>".repeat(50)).unwrap();
        std::fs::write(dir.path().join("photo.png"), [0u8; 64]).unwrap();
        let done = precompress(dir.path()).unwrap();
        let names: Vec<_> = done.iter().map(|c| c.path.strip_prefix(dir.path()).unwrap().to_str().unwrap().to_string()).collect();
        assert_eq!(names, ["app_bg.wasm", "public/icon.svg"], "a PNG is compressed already");
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut &std::fs::read(dir.path().join("app_bg.wasm.br")).unwrap()[..], &mut unbrotli).unwrap();
        assert_eq!(unbrotli, wasm);
        let mut ungzip = Vec::new();
        flate2::read::GzDecoder::new(&std::fs::read(dir.path().join("app_bg.wasm.gz")).unwrap()[..]).read_to_end(&mut ungzip).unwrap();
        assert_eq!(ungzip, wasm);
        assert!(done[0].brotli < done[0].raw && done[0].gzip < done[0].raw, "{done:?}");
        // Run again (a rebuild): the copies are not compressed themselves.
        assert_eq!(precompress(dir.path()).unwrap().len(), 2);
    }

    #[test]
    fn the_first_load_is_the_page_and_what_it_links_to_on_this_site() {
        let dir = tempfile::tempdir().unwrap();
        let html = r#"<link rel="preload" href="/app_bg.wasm" as="fetch"><link rel="stylesheet" href="/main.css?v=1">
            <script type="module" src='/app.js'></script><a href="https://example.org/x.js">elsewhere</a>"#;
        for (name, body) in [("index.html", html), ("app_bg.wasm", "w"), ("main.css", "c"), ("app.js", "j"), ("other.js", "o")] {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        let done = precompress(dir.path()).unwrap();
        let first: Vec<_> = first_load(dir.path(), &done).unwrap().iter().map(|c| c.path.file_name().unwrap().to_str().unwrap().to_string()).collect();
        assert_eq!(first, ["app.js", "app_bg.wasm", "index.html", "main.css"]);
    }

    #[test]
    fn sizes_read_with_thousands_separators() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1000), "1,000 B");
        assert_eq!(bytes(407_593), "407,593 B");
        assert_eq!(bytes(2_176_120), "2,176,120 B");
    }
}
