//! `ftprep lsp` under a real editor's LSP client: Neovim, headless.
//!
//! A shipped spec is copied into a temporary directory with one planted
//! problem (`checks always.use_detail`, a misspelt anchor) and a curly
//! apostrophe earlier on the same line, so the UTF-16 columns the server
//! sends and the byte columns Neovim shows differ. `tests/nvim/lsp_check.lua`
//! starts the server from Neovim's own client, opens the spec, waits for
//! the diagnostics, asks for hover on a question id in a calibration
//! `answers` block and writes what Neovim made of it all as JSON.
//!
//! Without `nvim` on the `PATH` the test is skipped with a notice, unless
//! `FTPREP_REQUIRE_NVIM` is set (CI sets it): then it fails.

mod common;

use common::root;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Only a hung editor or server reaches it.
const TIMEOUT: Duration = Duration::from_secs(60);

/// `nvim --version`'s first line, or `None` when there is no `nvim`.
fn nvim_version() -> Option<String> {
    let output = Command::new("nvim")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().next().unwrap_or("").to_string())
}

/// 0-based line and byte column of the first `needle` after line `from`.
fn find(text: &str, from: usize, needle: &str) -> (usize, usize) {
    text.lines()
        .enumerate()
        .skip(from)
        .find_map(|(n, line)| line.find(needle).map(|col| (n, col)))
        .unwrap_or_else(|| panic!("`{needle}` is not in the spec after line {from}"))
}

/// Runs Neovim on the check script; kills it after `TIMEOUT`.
fn run_nvim(dir: &Path, spec: &Path, out: &Path, hover: (usize, usize)) {
    let script = root().join("tests/nvim/lsp_check.lua");
    let log = |name: &str| std::fs::File::create(dir.join(name)).unwrap();
    let mut command = Command::new("nvim");
    command
        // No user config, plugins, shada or swap file.
        .args(["--headless", "--clean", "-u", "NONE", "-i", "NONE", "-n"])
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .current_dir(dir)
        .env("FTPREP_BIN", env!("CARGO_BIN_EXE_ftprep"))
        .env("FTPREP_SPEC", spec)
        .env("FTPREP_OUT", out)
        .env("FTPREP_HOVER_LINE", hover.0.to_string())
        .env("FTPREP_HOVER_CHAR", hover.1.to_string())
        .env("FTPREP_TIMEOUT_MS", "20000")
        .stdin(Stdio::null())
        .stdout(log("nvim.stdout"))
        .stderr(log("nvim.stderr"));
    // Neovim's own log files and state stay in the temporary directory.
    for var in [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ] {
        command.env(var, dir.join("xdg"));
    }
    let mut child = command.spawn().expect("nvim starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = || {
        format!(
            "stdout:\n{}\nstderr:\n{}\nreport:\n{}",
            std::fs::read_to_string(dir.join("nvim.stdout")).unwrap_or_default(),
            std::fs::read_to_string(dir.join("nvim.stderr")).unwrap_or_default(),
            std::fs::read_to_string(out).unwrap_or_default(),
        )
    };
    match status {
        None => panic!(
            "nvim did not finish within {TIMEOUT:?}; killed\n{}",
            output()
        ),
        Some(status) if !status.success() => {
            panic!("nvim exited with {status}\n{}", output())
        }
        Some(_) => {}
    }
}

#[test]
fn neovim_shows_diagnostics_and_hover() {
    let Some(version) = nvim_version() else {
        if std::env::var_os("FTPREP_REQUIRE_NVIM").is_some() {
            panic!(
                "nvim not found on PATH, and FTPREP_REQUIRE_NVIM is set: \
                 install Neovim (apt-get install -y neovim) to run this test"
            );
        }
        // Written to the stderr handle itself, not through `eprintln!`,
        // which the test harness captures and shows only for a failure:
        // a skip must be seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\nneovim_shows_diagnostics_and_hover: SKIPPED, nvim is not on PATH \
             (install Neovim to run it; CI sets FTPREP_REQUIRE_NVIM=1 to require it)"
        );
        return;
    };
    eprintln!("running against {version}");

    let original = std::fs::read_to_string(root().join("specs/therapy.ftprep")).unwrap();
    let planted = "checks always.use_details";
    assert_eq!(original.matches(planted).count(), 1, "the spec changed");
    let text = original.replace(planted, "checks always.use_detail");
    // A non-ASCII character before the reference on its line: 1 UTF-16 unit,
    // 3 bytes.
    let (line, _) = find(&text, 0, "checks always.use_detail");
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    let curly = lines[line].replacen("user's", "user\u{2019}s", 1);
    assert_ne!(curly, lines[line], "the spec changed");
    lines[line] = &curly;
    let text = lines.concat();

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("therapy.ftprep");
    std::fs::write(&spec, &text).unwrap();
    let out = dir.path().join("report.json");

    let (line, at) = find(&text, 0, "checks always.use_detail");
    let col = at + "checks ".len();
    let end_col = col + "always.use_detail".len();
    let utf16_col = text.lines().nth(line).unwrap()[..col]
        .encode_utf16()
        .count();
    assert_eq!(col, utf16_col + 2, "the curly apostrophe is on the line");

    // Hover on the first `CP1` of a calibration's `answers` block; the
    // line is ASCII, so the UTF-16 column is the byte column.
    let (answers, _) = find(&text, 0, "answers {");
    let hover = find(&text, answers, "CP1");
    let hover = (hover.0, hover.1 + 1);

    run_nvim(dir.path(), &spec, &out, hover);

    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(&out).expect("lsp_check.lua wrote its report"),
    )
    .unwrap();
    eprintln!("neovim {}", report["nvim"]);
    assert_eq!(report["error"], "", "{report:#}");
    assert_eq!(report["offset_encoding"], "utf-16", "{report:#}");

    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "exactly one diagnostic: {report:#}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "unknown-reference", "{d:#}");
    assert_eq!(d["source"], "ftprep", "{d:#}");
    // vim.diagnostic.severity.ERROR
    assert_eq!(d["severity"], 1, "{d:#}");
    let message = d["message"].as_str().unwrap();
    assert!(message.contains("always.use_detail`"), "{message}");
    assert!(message.contains("always.use_details"), "{message}");
    assert!(message.contains("help: "), "{message}");
    // Neovim turns the server's UTF-16 positions into 0-based byte columns.
    assert_eq!(d["lnum"], line, "{d:#}");
    assert_eq!(d["end_lnum"], line, "{d:#}");
    assert_eq!(d["col"], col, "byte column of the reference: {d:#}");
    assert_eq!(d["end_col"], end_col, "{d:#}");

    let hover = report["hover"].as_str().unwrap();
    assert!(hover.contains("**CP1**"), "{hover}");
    assert!(
        hover.contains("Does the response name a specific feeling"),
        "{hover}"
    );
    assert!(hover.contains("Weight in the final score"), "{hover}");
}
