//! Dockerfiles, parsed with `parse-dockerfile` (parser directives, heredocs, spans) into a flat model that
//! checks can read: instructions with line/column, stage, flags, typed arguments, and the shell text of
//! `RUN` split into simple commands. `ARG` values are substituted into `FROM` image references.

use parse_dockerfile::{Command, HealthcheckArguments, Instruction, JsonOrStringArray, Source};
use std::collections::BTreeMap;

/// One instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instr {
    /// Upper-case keyword: `FROM`, `RUN`, ...
    pub kw: &'static str,
    pub line: u32,
    pub col: u32,
    /// Index of the stage (FROM) it belongs to; `None` before the first FROM.
    pub stage: Option<usize>,
    /// Argument text after the keyword (and flags), line continuations joined, heredoc bodies appended.
    pub raw: String,
    /// `--name[=value]` flags.
    pub flags: Vec<(String, Option<String>)>,
    /// Typed arguments: COPY/ADD sources then destination; EXPOSE ports; SHELL, VOLUME and exec-form items;
    /// FROM image; USER/WORKDIR/STOPSIGNAL value.
    pub words: Vec<String>,
    /// CMD/ENTRYPOINT/RUN written as a JSON array.
    pub exec_form: bool,
    /// Key/value pairs of ENV, ARG and LABEL (ARG without default has value `None`).
    pub pairs: Vec<(String, Option<String>)>,
    /// Inside `ONBUILD`: the keyword of the wrapped instruction is `kw`, and this is true.
    pub onbuild: bool,
    /// HEALTHCHECK NONE.
    pub healthcheck_none: bool,
}

impl Instr {
    pub fn flag(&self, name: &str) -> Option<Option<&str>> {
        self.flags.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_deref())
    }

    /// Simple commands of a RUN (or shell-form CMD/ENTRYPOINT) body: split at `&&`, `||`, `;`, `|`, `&`
    /// and newlines, each split into words (quotes removed).
    pub fn commands(&self) -> Vec<Vec<String>> {
        if self.exec_form {
            return vec![self.words.clone()];
        }
        shell_commands(&self.raw)
    }

    /// Pipelines of the body: each is a list of commands joined by `|`.
    pub fn pipelines(&self) -> Vec<Vec<Vec<String>>> {
        shell_pipelines(&self.raw)
    }
}

/// A build stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    pub index: usize,
    /// Image reference as written.
    pub image_raw: String,
    /// Image reference with `ARG` values substituted.
    pub image: String,
    pub alias: Option<String>,
    pub platform: Option<String>,
    pub line: u32,
    pub col: u32,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dockerfile {
    pub instructions: Vec<Instr>,
    pub stages: Vec<Stage>,
    /// ARGs declared before the first FROM, with defaults.
    pub global_args: BTreeMap<String, Option<String>>,
    /// `# syntax=` directive.
    pub syntax: Option<String>,
    /// Lines skipped because they hold no known instruction (for example an editor's stray `~`); `docker build`
    /// rejects them, so they are reported, but the rest of the file is still checked.
    pub skipped: Vec<DockerfileError>,
}

/// A Dockerfile parse error (1-based position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut v = vec![0];
        v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex(v)
    }
    fn pos(&self, offset: usize) -> (u32, u32) {
        let line = self.0.partition_point(|&s| s <= offset).max(1);
        let start = self.0.get(line - 1).copied().unwrap_or(0);
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(offset.saturating_sub(start) + 1).unwrap_or(0),
        )
    }
}

impl Dockerfile {
    /// Parse a Dockerfile. One bad instruction does not hide the others: a heredoc that is never closed runs
    /// to the end of the file (as BuildKit reads it), and a line with an unknown or malformed instruction is
    /// blanked out; each is recorded in `skipped` (at most 32; beyond that the error is returned).
    pub fn parse(text: &str) -> Result<Dockerfile, DockerfileError> {
        let mut text = std::borrow::Cow::Borrowed(text);
        let mut skipped = Vec::new();
        let mut closed_heredoc = false;
        loop {
            match Self::parse_strict(&text) {
                Err(mut e) if skipped.len() < 32 && e.line > 0 => {
                    if !closed_heredoc && let Some(delim) = unclosed_heredoc(&text, &e) {
                        closed_heredoc = true;
                        e.message = format!("{}; the heredoc {delim} runs to the end of the file", e.message);
                        skipped.push(e);
                        let mut t = text.into_owned();
                        if !t.ends_with('\n') {
                            t.push('\n');
                        }
                        t.push_str(&delim);
                        t.push('\n');
                        text = std::borrow::Cow::Owned(t);
                        continue;
                    }
                    let blanked = blank_line(&text, e.line).ok_or_else(|| e.clone())?;
                    if blanked == *text {
                        return Err(e);
                    }
                    e.message = format!("{}; instruction skipped", e.message);
                    skipped.push(e);
                    text = std::borrow::Cow::Owned(blanked);
                }
                Err(e) => return Err(e),
                Ok(mut d) => {
                    d.skipped = skipped;
                    return Ok(d);
                }
            }
        }
    }

    fn parse_strict(text: &str) -> Result<Dockerfile, DockerfileError> {
        let parsed = std::panic::catch_unwind(|| parse_dockerfile::parse(text).map(|d| convert(text, &d)));
        match parsed {
            Ok(Ok(d)) => Ok(d),
            Ok(Err(e)) => Err(DockerfileError {
                line: u32::try_from(e.line()).unwrap_or(0),
                col: u32::try_from(e.column()).unwrap_or(0),
                message: e.to_string(),
            }),
            Err(_) => {
                Err(DockerfileError { line: 0, col: 0, message: "the Dockerfile parser failed".into() })
            }
        }
    }

    /// Instructions of one stage.
    pub fn stage_instrs(&self, stage: usize) -> impl Iterator<Item = &Instr> {
        self.instructions.iter().filter(move |i| i.stage == Some(stage) && !i.onbuild)
    }

    /// Instructions of the final stage.
    pub fn final_stage(&self) -> Option<&Stage> {
        self.stages.last()
    }

    /// Every instruction with keyword `kw` (not inside ONBUILD).
    pub fn all<'a>(&'a self, kw: &'a str) -> impl Iterator<Item = &'a Instr> + 'a {
        self.instructions.iter().filter(move |i| i.kw == kw && !i.onbuild)
    }

    /// Is `name` an alias or index of a stage before `stage`?
    pub fn is_stage_ref(&self, name: &str) -> bool {
        self.stages.iter().any(|s| s.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(name)))
            || name.parse::<usize>().is_ok_and(|n| n < self.stages.len())
    }
}

fn kw_of(i: &Instruction<'_>) -> &'static str {
    match i {
        Instruction::Add(_) => "ADD",
        Instruction::Arg(_) => "ARG",
        Instruction::Cmd(_) => "CMD",
        Instruction::Copy(_) => "COPY",
        Instruction::Entrypoint(_) => "ENTRYPOINT",
        Instruction::Env(_) => "ENV",
        Instruction::Expose(_) => "EXPOSE",
        Instruction::From(_) => "FROM",
        Instruction::Healthcheck(_) => "HEALTHCHECK",
        Instruction::Label(_) => "LABEL",
        Instruction::Maintainer(_) => "MAINTAINER",
        Instruction::Onbuild(_) => "ONBUILD",
        Instruction::Run(_) => "RUN",
        Instruction::Shell(_) => "SHELL",
        Instruction::Stopsignal(_) => "STOPSIGNAL",
        Instruction::User(_) => "USER",
        Instruction::Volume(_) => "VOLUME",
        Instruction::Workdir(_) => "WORKDIR",
        _ => "UNKNOWN",
    }
}

fn kw_span(i: &Instruction<'_>) -> std::ops::Range<usize> {
    match i {
        Instruction::Add(x) => x.add.span.clone(),
        Instruction::Arg(x) => x.arg.span.clone(),
        Instruction::Cmd(x) => x.cmd.span.clone(),
        Instruction::Copy(x) => x.copy.span.clone(),
        Instruction::Entrypoint(x) => x.entrypoint.span.clone(),
        Instruction::Env(x) => x.env.span.clone(),
        Instruction::Expose(x) => x.expose.span.clone(),
        Instruction::From(x) => x.from.span.clone(),
        Instruction::Healthcheck(x) => x.healthcheck.span.clone(),
        Instruction::Label(x) => x.label.span.clone(),
        Instruction::Maintainer(x) => x.maintainer.span.clone(),
        Instruction::Onbuild(x) => x.onbuild.span.clone(),
        Instruction::Run(x) => x.run.span.clone(),
        Instruction::Shell(x) => x.shell.span.clone(),
        Instruction::Stopsignal(x) => x.stopsignal.span.clone(),
        Instruction::User(x) => x.user.span.clone(),
        Instruction::Volume(x) => x.volume.span.clone(),
        Instruction::Workdir(x) => x.workdir.span.clone(),
        _ => 0..0,
    }
}

fn flags_of(flags: &[parse_dockerfile::Flag<'_>]) -> Vec<(String, Option<String>)> {
    flags.iter().map(|f| (f.name.value.to_string(), f.value.as_ref().map(|v| v.value.to_string()))).collect()
}

fn command_words(c: &Command<'_>) -> (bool, Vec<String>) {
    match c {
        Command::Exec(items) => (true, items.value.iter().map(|s| s.value.to_string()).collect()),
        Command::Shell(s) => (false, vec![s.value.to_string()]),
        #[allow(unreachable_patterns)]
        _ => (false, Vec::new()),
    }
}

/// Raw argument text of an instruction: from the end of the keyword to the next instruction, without
/// comment lines, with line continuations joined.
fn raw_text(text: &str, start: usize, end: usize) -> String {
    let slice = text.get(start..end.min(text.len())).unwrap_or("");
    let mut out = String::new();
    for line in slice.split('\n') {
        let t = line.trim();
        if t.starts_with('#') {
            continue;
        }
        let (body, cont) = match line.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line.trim_end(), false),
        };
        out.push_str(body);
        out.push(if cont { ' ' } else { '\n' });
    }
    out.trim().to_string()
}

/// `text` with 1-based line `line` replaced by spaces (offsets of every other line are kept); `None` when the
/// line does not exist.
/// The delimiter of the first heredoc (`<<EOF`, `<<-"EOF"`) that no later line closes, when the parser
/// failed (`e`) on a file that has one.
fn unclosed_heredoc(text: &str, e: &DockerfileError) -> Option<String> {
    if e.line == 0 {
        return None;
    }
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let mut rest = *line;
        while let Some(at) = rest.find("<<") {
            let after = rest[at + 2..].trim_start_matches('-');
            let after = after.trim_start_matches(['"', '\'']);
            let delim: String =
                after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            rest = &rest[at + 2..];
            if delim.is_empty() {
                continue;
            }
            if !lines.get(i + 1..).unwrap_or_default().iter().any(|l| l.trim() == delim) {
                return Some(delim);
            }
        }
    }
    None
}

fn blank_line(text: &str, line: u32) -> Option<String> {
    let idx = usize::try_from(line).ok()?.checked_sub(1)?;
    let mut out = String::with_capacity(text.len());
    let mut found = false;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i == idx {
            found = true;
            let body = l.trim_end_matches(['\n', '\r']);
            out.extend(std::iter::repeat_n(' ', body.len()));
            out.push_str(l.strip_prefix(body).unwrap_or_default());
        } else {
            out.push_str(l);
        }
    }
    found.then_some(out)
}

fn convert(text: &str, d: &parse_dockerfile::Dockerfile<'_>) -> Dockerfile {
    let idx = LineIndex::new(text);
    let mut out = Dockerfile {
        syntax: d.parser_directives.syntax.as_ref().map(|s| s.value.value.to_string()),
        ..Default::default()
    };
    let starts: Vec<usize> = d.instructions.iter().map(|i| kw_span(i).start).collect();
    let mut stage: Option<usize> = None;
    let mut stage_vars: BTreeMap<String, Option<String>> = BTreeMap::new();
    for (n, ins) in d.instructions.iter().enumerate() {
        let span = kw_span(ins);
        let end = starts.get(n + 1).copied().unwrap_or(text.len());
        let (line, col) = idx.pos(span.start);
        let mut i = Instr {
            kw: kw_of(ins),
            line,
            col,
            stage,
            raw: String::new(),
            flags: Vec::new(),
            words: Vec::new(),
            exec_form: false,
            pairs: Vec::new(),
            onbuild: false,
            healthcheck_none: false,
        };
        let mut inner = ins;
        if let Instruction::Onbuild(o) = ins {
            inner = &o.instruction;
            i.kw = kw_of(inner);
            i.onbuild = true;
            i.raw = raw_text(text, kw_span(inner).end, end);
        } else {
            i.raw = raw_text(text, span.end, end);
        }
        fill(&mut i, inner, text, &span, end);
        if let Instruction::From(f) = ins {
            let index = out.stages.len();
            let image_raw = f.image.value.to_string();
            let image = expand_vars(&image_raw, &out.global_args);
            out.stages.push(Stage {
                index,
                image_raw,
                image,
                alias: f.as_.as_ref().map(|(_, a)| a.value.to_string()),
                platform: f
                    .options
                    .iter()
                    .find(|o| o.name.value == "platform")
                    .and_then(|o| o.value.as_ref())
                    .map(|v| v.value.to_string()),
                line,
                col,
            });
            stage = Some(index);
            i.stage = stage;
            stage_vars.clear();
        } else if i.kw == "ARG" && !i.onbuild {
            for (k, v) in &i.pairs {
                if stage.is_none() {
                    out.global_args.insert(k.clone(), v.clone());
                } else {
                    let v = v.clone().or_else(|| out.global_args.get(k).cloned().flatten());
                    stage_vars.insert(k.clone(), v);
                }
            }
        }
        out.instructions.push(i);
    }
    out
}

fn fill(i: &mut Instr, ins: &Instruction<'_>, _text: &str, _span: &std::ops::Range<usize>, _end: usize) {
    match ins {
        Instruction::From(f) => {
            i.flags = flags_of(&f.options);
            i.words = vec![f.image.value.to_string()];
        }
        Instruction::Copy(c) => {
            i.flags = flags_of(&c.options);
            i.words = c.src.iter().map(source_text).collect();
            i.words.push(c.dest.value.to_string());
        }
        Instruction::Add(c) => {
            i.flags = flags_of(&c.options);
            i.words = c.src.iter().map(source_text).collect();
            i.words.push(c.dest.value.to_string());
        }
        Instruction::Run(r) => {
            i.flags = flags_of(&r.options);
            let (exec, words) = command_words(&r.arguments);
            i.exec_form = exec;
            i.words = words;
            if !exec {
                // Strip flags from the raw text: they precede the command.
                let mut raw = i.raw.as_str();
                for _ in &r.options {
                    raw = raw.trim_start();
                    raw = raw.split_once(char::is_whitespace).map(|(_, r)| r).unwrap_or("");
                }
                let mut body = raw.trim().to_string();
                for h in &r.here_docs {
                    body.push('\n');
                    body.push_str(&h.value);
                }
                i.raw = body;
            }
        }
        Instruction::Cmd(c) => {
            let (exec, words) = command_words(&c.arguments);
            i.exec_form = exec;
            i.words = words;
        }
        Instruction::Entrypoint(c) => {
            let (exec, words) = command_words(&c.arguments);
            i.exec_form = exec;
            i.words = words;
        }
        Instruction::Expose(e) => i.words = e.arguments.iter().map(|s| s.value.to_string()).collect(),
        Instruction::Shell(s) => i.words = s.arguments.iter().map(|s| s.value.to_string()).collect(),
        Instruction::Volume(v) => {
            i.words = match &v.arguments {
                JsonOrStringArray::Json(a) => a.value.iter().map(|s| s.value.to_string()).collect(),
                JsonOrStringArray::String(a) => a.iter().map(|s| s.value.to_string()).collect(),
            }
        }
        Instruction::User(u) => i.words = vec![u.arguments.value.trim().to_string()],
        Instruction::Workdir(w) => i.words = vec![w.arguments.value.trim().to_string()],
        Instruction::Stopsignal(s) => i.words = vec![s.arguments.value.trim().to_string()],
        Instruction::Maintainer(m) => i.words = vec![m.name.value.to_string()],
        Instruction::Env(e) => i.pairs = parse_pairs(&e.arguments.value, true),
        Instruction::Label(l) => i.pairs = parse_pairs(&l.arguments.value, true),
        Instruction::Arg(a) => i.pairs = parse_pairs(&a.arguments.value, false),
        Instruction::Healthcheck(h) => {
            i.flags = flags_of(&h.options);
            match &h.arguments {
                HealthcheckArguments::None { .. } => i.healthcheck_none = true,
                HealthcheckArguments::Cmd { arguments, .. } => {
                    let (exec, words) = command_words(arguments);
                    i.exec_form = exec;
                    i.words = words;
                }
                #[allow(unreachable_patterns)]
                _ => {}
            }
        }
        _ => {}
    }
}

fn source_text(s: &Source<'_>) -> String {
    match s {
        Source::Path(p) => p.value.to_string(),
        Source::HereDoc(h) => format!("<<heredoc\n{}", h.value),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

/// Parse `k=v k2="v 2"` (or the legacy `ENV k v` form when `legacy` and there is no `=` in the first word).
pub fn parse_pairs(s: &str, legacy: bool) -> Vec<(String, Option<String>)> {
    let words = split_words(s);
    if legacy && words.first().is_some_and(|w| !w.contains('=')) {
        let mut it = s.trim().splitn(2, char::is_whitespace);
        let k = it.next().unwrap_or("").to_string();
        let v = it.next().map(|v| unquote(v.trim()));
        return vec![(k, v)];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

fn unquote(s: &str) -> String {
    split_words(s).join(" ")
}

/// Split shell-like text into words, honouring single/double quotes and backslash escapes.
pub fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = s.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                has = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next()
                    && n != '\n'
                {
                    cur.push(n);
                    has = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if has || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            (None, c) => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Split a shell body into pipelines of simple commands (separators `&&`, `||`, `;`, `&`, newline; pipes
/// `|`), ignoring separators inside quotes. Words are split with [`split_words`].
pub fn shell_pipelines(body: &str) -> Vec<Vec<Vec<String>>> {
    let mut pipelines: Vec<Vec<Vec<String>>> = Vec::new();
    let mut pipeline: Vec<Vec<String>> = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let flush_cmd = |cur: &mut String, pipeline: &mut Vec<Vec<String>>| {
        let words = split_words(cur);
        if !words.is_empty() {
            pipeline.push(words);
        }
        cur.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' {
                    cur.push(c);
                    if let Some(n) = next {
                        cur.push(n);
                        i += 1;
                    }
                    i += 1;
                    continue;
                }
                cur.push(c);
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    cur.push(c);
                }
                '\\' => {
                    cur.push(c);
                    if let Some(n) = next {
                        cur.push(n);
                        i += 1;
                    }
                }
                '|' if next == Some('|') => {
                    flush_cmd(&mut cur, &mut pipeline);
                    pipelines.push(std::mem::take(&mut pipeline));
                    i += 1;
                }
                '|' => flush_cmd(&mut cur, &mut pipeline),
                '&' if next == Some('&') => {
                    flush_cmd(&mut cur, &mut pipeline);
                    pipelines.push(std::mem::take(&mut pipeline));
                    i += 1;
                }
                ';' | '\n' | '&' => {
                    flush_cmd(&mut cur, &mut pipeline);
                    pipelines.push(std::mem::take(&mut pipeline));
                }
                '(' | ')' | '{' | '}' if cur.trim().is_empty() => {}
                _ => cur.push(c),
            },
        }
        i += 1;
    }
    flush_cmd(&mut cur, &mut pipeline);
    pipelines.push(pipeline);
    pipelines.retain(|p| !p.is_empty());
    pipelines
}

/// True when a shell body pipes one command into another anywhere: at top level, after a `{ ...; }` group or
/// a `( ... )` subshell, inside `$( ... )` or backquotes (also within double quotes). `||` is not a pipe;
/// `|` inside single quotes or as literal text inside double quotes is not one either.
pub fn has_pipe(body: &str) -> bool {
    // Open contexts: ' single quote, " double quote, $ command substitution, ( subshell, ` backquote.
    let mut stack: Vec<char> = Vec::new();
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match stack.last().copied() {
            Some('\'') => {
                if c == '\'' {
                    stack.pop();
                }
            }
            Some('"') => match c {
                '\\' => i += 1,
                '"' => {
                    stack.pop();
                }
                '$' if next == Some('(') => {
                    stack.push('$');
                    i += 1;
                }
                '`' => stack.push('`'),
                _ => {}
            },
            top => match c {
                '\\' => i += 1,
                '\'' | '"' => stack.push(c),
                '$' if next == Some('(') => {
                    stack.push('$');
                    i += 1;
                }
                '(' => stack.push('('),
                ')' if matches!(top, Some('$' | '(')) => {
                    stack.pop();
                }
                '`' if top == Some('`') => {
                    stack.pop();
                }
                '`' => stack.push('`'),
                '|' if next == Some('|') => i += 1,
                '|' => return true,
                _ => {}
            },
        }
        i += 1;
    }
    false
}

/// Simple commands of a shell body, with leading `sudo`/`env VAR=x`/`VAR=x` assignments kept as words.
pub fn shell_commands(body: &str) -> Vec<Vec<String>> {
    shell_pipelines(body).into_iter().flatten().collect()
}

/// Substitute `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:+alt}` from `vars` (unknown variables become
/// empty, as in BuildKit).
pub fn expand_vars(s: &str, vars: &BTreeMap<String, Option<String>>) -> String {
    let get = |k: &str| vars.get(k).cloned().flatten();
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'{') {
            let Some(close) = chars[i + 2..].iter().position(|&c| c == '}') else {
                out.extend(&chars[i..]);
                break;
            };
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            let val = if let Some((name, d)) = inner.split_once(":-") {
                get(name).filter(|v| !v.is_empty()).unwrap_or_else(|| d.to_string())
            } else if let Some((name, d)) = inner.split_once(":+") {
                if get(name).is_some_and(|v| !v.is_empty()) { d.to_string() } else { String::new() }
            } else {
                get(&inner).unwrap_or_default()
            };
            out.push_str(&val);
            i += close + 3;
        } else {
            let name: String =
                chars[i + 1..].iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').collect();
            if name.is_empty() {
                out.push('$');
                i += 1;
            } else {
                out.push_str(&get(&name).unwrap_or_default());
                i += 1 + name.chars().count();
            }
        }
    }
    out
}

/// Split an image reference into (registry-or-empty, repository path, tag, digest).
pub fn split_image(image: &str) -> (String, String, Option<String>, Option<String>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d.to_string())),
        None => (image, None),
    };
    let (name, tag) = match rest.rfind(':') {
        Some(p) if !rest[p + 1..].contains('/') => (&rest[..p], Some(rest[p + 1..].to_string())),
        _ => (rest, None),
    };
    let (registry, path) = match name.split_once('/') {
        Some((first, path)) if first.contains(['.', ':']) || first == "localhost" => {
            (first.to_string(), path.to_string())
        }
        _ => (String::new(), name.to_string()),
    };
    (registry, path, tag, digest)
}

#[cfg(test)]
mod tests {

    #[test]
    fn pipes_in_groups_substitutions_and_quotes() {
        assert!(has_pipe("curl -fsSL https://x | sh"));
        assert!(has_pipe("{ echo a; echo b; } | sort"));
        assert!(has_pipe("( cd /x && ls ) | wc -l"));
        assert!(has_pipe("V=$(curl -s https://x | jq -r .v) && echo $V"));
        assert!(has_pipe("echo \"$(cat f | head -1)\""));
        assert!(has_pipe("echo `ls | head -1`"));
        assert!(!has_pipe("test -f a || touch a"));
        assert!(!has_pipe("grep -E 'a|b' f && echo \"x|y\""));
        assert!(!has_pipe("echo a \\| b"));
    }
    use super::*;

    fn parse(s: &str) -> Dockerfile {
        Dockerfile::parse(s).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn stages_args_and_lines() {
        let d = parse(
            "# syntax=docker/dockerfile:1\nARG BASE=debian\nARG TAG=12\nFROM ${BASE}:${TAG} AS build\nRUN apt-get update \\\n && apt-get install -y curl\nFROM --platform=linux/amd64 scratch\nCOPY --from=build /a /b\n",
        );
        assert_eq!(d.stages.len(), 2);
        assert_eq!(d.stages[0].image, "debian:12");
        assert_eq!(d.stages[0].alias.as_deref(), Some("build"));
        assert_eq!(d.stages[1].platform.as_deref(), Some("linux/amd64"));
        let run = d.all("RUN").next().unwrap_or_else(|| panic!("run"));
        assert_eq!(run.line, 5);
        assert_eq!(run.commands().len(), 2);
        assert_eq!(run.commands()[1], ["apt-get", "install", "-y", "curl"]);
        let copy = d.all("COPY").next().unwrap_or_else(|| panic!("copy"));
        assert_eq!(copy.flag("from"), Some(Some("build")));
        assert_eq!(copy.words, ["/a", "/b"]);
        assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
    }

    #[test]
    fn heredocs_and_pipes() {
        let d = parse("FROM alpine\nRUN <<EOF\ncurl -fsSL https://x | sh\nEOF\n");
        let run = d.all("RUN").next().unwrap_or_else(|| panic!("run"));
        let p = run.pipelines();
        assert!(p.iter().any(|p| p.len() == 2 && p[1] == ["sh"]), "{p:?}");
    }

    #[test]
    fn env_pairs_and_images() {
        assert_eq!(
            parse_pairs("A=1 B=\"x y\"", true),
            vec![("A".into(), Some("1".into())), ("B".into(), Some("x y".into()))]
        );
        assert_eq!(parse_pairs("A hello world", true), vec![("A".into(), Some("hello world".into()))]);
        assert_eq!(
            split_image("ghcr.io/a/b:1@sha256:ab"),
            ("ghcr.io".into(), "a/b".into(), Some("1".into()), Some("sha256:ab".into()))
        );
        assert_eq!(split_image("localhost:5000/x"), ("localhost:5000".into(), "x".into(), None, None));
        assert_eq!(split_image("nginx"), (String::new(), "nginx".into(), None, None));
    }

    #[test]
    fn a_bad_instruction_is_skipped_and_reported() {
        let d = Dockerfile::parse("FROM alpine\nCOPY\nUSER root\n").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.skipped.len(), 1, "{:?}", d.skipped);
        assert_eq!(d.skipped[0].line, 2);
        assert!(d.all("USER").next().is_some());
    }

    /// An unclosed heredoc runs to the end of the file; the instructions before it are kept.
    #[test]
    fn an_unclosed_heredoc_keeps_the_rest() {
        let d = Dockerfile::parse("FROM alpine\nUSER root\nRUN <<EOF\napk add curl\n")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.skipped.len(), 1, "{:?}", d.skipped);
        assert!(d.skipped[0].message.contains("heredoc EOF"), "{:?}", d.skipped);
        assert!(d.all("USER").next().is_some());
        assert!(d.all("RUN").next().is_some_and(|r| r.raw.contains("apk add curl")));
    }

    #[test]
    fn unknown_instruction_lines_are_skipped_and_reported() {
        let d = Dockerfile::parse("FROM alpine:3.20\nRUN apk update\n~\nUSER app\n");
        let d = d.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.skipped.len(), 1);
        assert_eq!(d.skipped[0].line, 3);
        assert!(d.all("USER").next().is_some());
        assert_eq!(d.all("USER").next().map(|i| i.line), Some(4));
    }
}
