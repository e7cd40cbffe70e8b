//! Helpers shared by the Dockerfile checks: simple commands of RUN instructions, flags and packages.

use crate::dockerfile::{Dockerfile, Instr};

/// Drop wrappers in front of a command: `sudo [-u x]`, `env`, `VAR=value`, `exec`, `nohup`, `time`, `command`.
pub fn norm(words: &[String]) -> Vec<String> {
    let mut i = 0;
    while i < words.len() {
        let w = words[i].as_str();
        let base = basename(w);
        if matches!(base, "sudo" | "doas") {
            i += 1;
            while i < words.len() && words[i].starts_with('-') {
                let takes_arg =
                    matches!(words[i].as_str(), "-u" | "-g" | "-C" | "-D" | "-h" | "-p" | "-r" | "-t" | "-U");
                i += if takes_arg { 2 } else { 1 };
            }
            continue;
        }
        if matches!(base, "env" | "exec" | "nohup" | "time" | "command")
            || (w.contains('=') && !w.starts_with('-') && !w.starts_with('=')) && i + 1 < words.len()
        {
            i += 1;
            continue;
        }
        break;
    }
    words.get(i..).map(<[String]>::to_vec).unwrap_or_default()
}

pub fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

/// Every simple command of every RUN (not ONBUILD), normalised with [`norm`].
pub fn run_cmds(df: &Dockerfile) -> Vec<(&Instr, Vec<String>)> {
    let mut out = Vec::new();
    for i in df.all("RUN") {
        for c in i.commands() {
            let n = norm(&c);
            if !n.is_empty() {
                out.push((i, n));
            }
        }
    }
    out
}

/// Is this command `name` (by basename)?
pub fn is(words: &[String], name: &str) -> bool {
    words.first().is_some_and(|w| basename(w) == name)
}

/// The first argument that is not an option (the subcommand), after the command word.
pub fn sub(words: &[String]) -> Option<&str> {
    words.iter().skip(1).find(|w| !w.starts_with('-')).map(String::as_str)
}

/// Does the command carry one of these options (`--opt`, `--opt=x`, or a short flag inside a group `-qy`)?
pub fn has_opt(words: &[String], opts: &[&str]) -> bool {
    words.iter().skip(1).any(|w| {
        opts.iter().any(|o| {
            if o.starts_with("--") {
                w == o || w.starts_with(&format!("{o}="))
            } else if let Some(c) = o.strip_prefix('-').filter(|c| c.len() == 1) {
                w.starts_with('-') && !w.starts_with("--") && w.contains(c)
            } else {
                w == o
            }
        })
    })
}

/// Package arguments after a subcommand (`install`, `add`): words that are not options.
pub fn packages<'a>(words: &'a [String], subcmd: &str) -> Vec<&'a str> {
    let Some(p) = words.iter().position(|w| w == subcmd) else { return Vec::new() };
    words[p + 1..].iter().filter(|w| !w.starts_with('-') && !w.is_empty()).map(String::as_str).collect()
}

/// Names that suggest a credential.
pub fn secret_like(name: &str) -> bool {
    crate::checks::k8s::helpers::secret_like(name)
}
