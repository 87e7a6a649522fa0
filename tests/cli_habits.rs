//! The habits of a command-line tool: `rcfg completions` and `rcfg man` checked with their
//! real consumers (bash, zsh when installed, man), examples in every `--help`, and the colour
//! policy (NO_COLOR, CLICOLOR_FORCE, TERM=dumb) seen from outside.

mod common;

use std::process::Command as Sys;

use common::rcfg;

fn stdout_of(args: &[&str]) -> String {
    let out = rcfg().args(args).output().unwrap();
    assert!(out.status.success(), "rcfg {args:?} failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completion_parses_and_completes_subcommands_and_flags() {
    let script = stdout_of(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rcfg.bash");
    std::fs::write(&path, &script).unwrap();
    // Source the script in a real bash and ask the completion function what `rcfg ap<TAB>`
    // and `rcfg apply --dry<TAB>` complete to.
    let probe = format!(
        r#"source {p}
complete -p rcfg >/dev/null || exit 3
fn=$(complete -p rcfg | sed -E 's/.*-F ([^ ]+).*/\1/')
COMP_WORDS=(rcfg ap); COMP_CWORD=1; COMP_LINE="rcfg ap"; COMP_POINT=${{#COMP_LINE}}
$fn rcfg ap rcfg; echo "sub:${{COMPREPLY[*]}}"
COMP_WORDS=(rcfg apply --dry); COMP_CWORD=2; COMP_LINE="rcfg apply --dry"; COMP_POINT=${{#COMP_LINE}}
$fn rcfg --dry apply; echo "flag:${{COMPREPLY[*]}}"
"#,
        p = path.display()
    );
    let out = Sys::new("bash").arg("-c").arg(probe).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("sub:apply"), "{text}");
    assert!(text.contains("flag:--dry-run"), "{text}");
}

#[test]
fn zsh_and_fish_completions_name_every_subcommand() {
    let zsh = stdout_of(&["completions", "zsh"]);
    let fish = stdout_of(&["completions", "fish"]);
    for sub in ["detect", "apply", "audit-ttl", "completions", "man"] {
        assert!(zsh.contains(&format!("'{sub}:")), "zsh lacks {sub}");
        assert!(fish.contains(&format!("-a \"{sub}\"")), "fish lacks {sub}");
    }
    if Sys::new("zsh").arg("--version").output().is_ok() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("_rcfg");
        std::fs::write(&path, &zsh).unwrap();
        let st = Sys::new("zsh").arg("-n").arg(&path).status().unwrap();
        assert!(st.success(), "zsh -n rejected the completion script");
    }
}

#[test]
fn man_pages_render_with_man_and_carry_flags_and_examples() {
    let dir = tempfile::tempdir().unwrap();
    let listing = stdout_of(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    for page in ["rcfg", "rcfg-detect", "rcfg-apply", "rcfg-audit-ttl"] {
        let path = dir.path().join(format!("{page}.1"));
        assert!(listing.contains(&path.display().to_string()), "{listing}");
        let out = Sys::new("man")
            .arg("-l")
            .arg(&path)
            .env("MANWIDTH", "100")
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        assert!(out.status.success(), "man -l {page}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("Examples:"),
            "{page} has no examples:\n{text}"
        );
        assert!(text.to_uppercase().contains(&page.to_uppercase()), "{text}");
    }
    let apply = std::fs::read_to_string(dir.path().join("rcfg-apply.1")).unwrap();
    assert!(apply.contains("dry\\-run"), "apply page lacks --dry-run");
}

#[test]
fn every_subcommand_help_has_examples() {
    for sub in ["detect", "apply", "audit-ttl", "completions", "man"] {
        let help = stdout_of(&[sub, "--help"]);
        assert!(help.contains("Examples:\n  rcfg "), "{sub} --help:\n{help}");
    }
}

#[test]
fn colour_through_a_pipe_only_when_forced_and_never_for_dumb_terminals() {
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = rcfg();
        cmd.env_remove("NO_COLOR").env_remove("TERM");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd
            .args(["detect", "--root", "fixtures/hosting-root"])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(!run(&[]).contains('\x1b'), "a pipe gets no colour");
    assert!(run(&[("CLICOLOR_FORCE", "1")]).contains("\x1b["));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}

#[test]
fn usage_errors_carry_the_rcfg_error_prefix_and_exit_2() {
    let usage = rcfg().args(["detect", "--bogus"]).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let text = String::from_utf8_lossy(&usage.stderr);
    assert!(
        text.starts_with("rcfg: error: unexpected argument '--bogus'"),
        "{text}"
    );
}

#[test]
fn apply_diffs_are_coloured_when_asked_and_plain_through_a_pipe() {
    let run = |extra: &[&str], force: bool| {
        let mut cmd = rcfg();
        cmd.env_remove("NO_COLOR").env_remove("TERM");
        if force {
            cmd.env("CLICOLOR_FORCE", "1");
        }
        let out = cmd
            .args([
                "apply",
                "fixtures/wordpress-classic",
                "--dry-run",
                "--db",
                "1",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = run(&[], false);
    assert!(
        plain.contains("\n+define( 'WP_REDIS_DATABASE', 1 );\n"),
        "{plain}"
    );
    assert!(!plain.contains('\x1b'));
    let forced = run(&[], true);
    assert!(
        forced.contains("\x1b[32m+define( 'WP_REDIS_DATABASE', 1 );\x1b[0m"),
        "{forced}"
    );
    assert!(!run(&["--color", "never"], true).contains('\x1b'));
    assert!(
        run(&["--color", "always"], false).contains("\x1b[31m")
            || run(&["--color", "always"], false).contains("\x1b[32m")
    );
}

#[test]
fn audit_ttl_on_a_file_it_cannot_scan_is_an_error_and_baselines_are_announced() {
    let dir = tempfile::tempdir().unwrap();
    let txt = dir.path().join("notes.txt");
    std::fs::write(&txt, "wp_cache_set('a', 1);\n").unwrap();
    let out = rcfg().arg("audit-ttl").arg(&txt).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("notes.txt: not a PHP or JS/TS file"),
        "{text}"
    );
    assert!(text.contains("; 1 error while scanning"), "{text}");

    let php = dir.path().join("one.php");
    std::fs::write(&php, "<?php\nwp_cache_set( 'a', 1 );\n").unwrap();
    let baseline = dir.path().join("baseline.json");
    let out = rcfg()
        .arg("audit-ttl")
        .arg(&php)
        .arg("--write-baseline")
        .arg(&baseline)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("rcfg: wrote baseline ") && err.contains("(1 finding)"),
        "{err}"
    );
    assert!(baseline.is_file());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("; 1 file scanned, 1 analysed"), "{text}");
}

#[test]
fn namespace_depth_is_the_audit_flag_and_depth_stays_an_alias() {
    let help = String::from_utf8(
        rcfg()
            .args(["audit-ttl", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(help.contains("--namespace-depth <N>"), "{help}");
    // The old spelling is still accepted (flags are a contract).
    for flag in ["--namespace-depth", "--depth"] {
        let out = rcfg()
            .args(["audit-ttl", "--redis", "redis://127.0.0.1:1/0", flag, "3"])
            .args(["--connect-timeout", "1s"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("unexpected argument"), "{flag}: {err}");
    }
}
