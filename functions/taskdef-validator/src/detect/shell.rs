//! Reading a command line as a shell would, as far as finding credentials needs: where one
//! command ends and the next begins, and which program each command runs.
//!
//! Most credentials in a command are found word by word (`--password=x`, `--token x`), and
//! then the program does not matter: those words are read as they always were, split at
//! whitespace ([`words`]), because an exec-form argument is not shell text and a `;` in it is
//! part of the value. One common form is the program's own syntax: a MySQL or MariaDB client
//! takes its password glued to `-p` (`mysqladmin ping -uroot -pS3cret`), where `mkdir -p`,
//! `redis-cli -p6380` and `ssh -p2222` mean something else entirely, and where a bare `-p`
//! asks for the password (the next word is the database; mydumper, myloader and Percona
//! Toolkit's MySQL tools take the password there as well, as redis-cli and redis-benchmark do
//! after `-a`, the MongoDB shells after `-p`, and sshpass, before the command it runs, after
//! its `-p` or glued to it, as `getopt` reads it). For that, [`Program`] reads the same words
//! underneath: it ends a command at a newline and at `;`, `&&`, `||`, `|` or a lone `&`
//! outside quotes (glued to a word or not), and finds each command's program past what only
//! runs it (`sh -c`, `exec`, `sudo -u mysql`, `timeout 5`, a health check's
//! `CMD-SHELL`, `until`, …). A value ends at such a separator too, and a shell default
//! (`${PW:-S3cret}`) is read for the value it falls back to.
//!
//! This is not a shell parser. Quotes are followed along a line (a newline forgets an
//! unbalanced one, so a stray apostrophe costs one line), and the quoted string after a
//! shell's `-c` is read as the command line it is. The entry points in `detect` decide what a
//! found password is worth; this module imports nothing of them.

use super::text::{find_non_whitespace, find_whitespace, has_whitespace};

/// A word of a command line, split at whitespace as `str::split_whitespace` splits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Word<'a> {
    pub(super) text: &'a str,
    /// A newline stands between this word and the one before (not one escaped by `\`).
    pub(super) new_line: bool,
}

/// The words of `text` ([`Word`]).
pub(super) fn words(text: &str) -> impl Iterator<Item = Word<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = find_non_whitespace(rest)?;
        let (gap, tail) = rest.split_at(start);
        let end = find_whitespace(tail).unwrap_or(tail.len());
        let (text, after) = tail.split_at(end);
        rest = after;
        Some(Word {
            text,
            new_line: gap.contains('\n'),
        })
    })
}

/// The length of `;`, `&&`, `||` or `|` at the start of `bytes`.
fn separator(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'&', b'&', ..] | [b'|', b'|', ..] => Some(2),
        [b';' | b'|', ..] => Some(1),
        _ => None,
    }
}

/// A word that runs the command after it: the flags of its that take a value, and how many
/// words it takes before that command (`timeout 5 …`, `docker exec CONTAINER …`).
#[derive(Debug)]
struct Runner {
    names: &'static [&'static str],
    /// A shell: its `-c` is followed by a command line.
    shell: bool,
    value_flags: &'static [&'static str],
    operands: u8,
    /// Its flags whose value is a password (`sshpass -p …`).
    password_flags: &'static [&'static str],
    /// It reads its options as `getopt` does, so that a short flag's value may be glued to it
    /// (`sshpass -pS3cret`, `sshpass -p'S3cret'`): the first flag of a cluster that takes a
    /// value takes the rest of the word.
    glued: bool,
}

const RUNNERS: &[Runner] = &[
    Runner {
        names: &["sh", "bash", "ash", "dash", "zsh", "ksh"],
        shell: true,
        value_flags: &["-o", "+o", "-O", "+O"],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["sudo"],
        shell: false,
        value_flags: &[
            "-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group",
        ],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["env"],
        shell: false,
        value_flags: &["-u", "-C", "-S", "--unset", "--chdir", "--split-string"],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["nice"],
        shell: false,
        value_flags: &["-n", "--adjustment"],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["timeout"],
        shell: false,
        value_flags: &["-s", "-k", "--signal", "--kill-after"],
        operands: 1,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["xargs"],
        shell: false,
        value_flags: &[
            "-I",
            "-n",
            "-P",
            "-L",
            "-s",
            "-d",
            "-E",
            "-a",
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--arg-file",
        ],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["docker", "podman"],
        shell: false,
        value_flags: &[
            "-e",
            "-u",
            "-w",
            "-p",
            "-v",
            "-l",
            "--env",
            "--user",
            "--workdir",
            "--env-file",
            "--publish",
            "--volume",
            "--name",
            "--network",
            "--entrypoint",
            "--label",
            "--mount",
            "--platform",
        ],
        operands: 2,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["gosu", "su-exec"],
        shell: false,
        value_flags: &[],
        operands: 1,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["eval"],
        shell: true,
        value_flags: &[],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["ionice"],
        shell: false,
        value_flags: &["-c", "-n", "-p", "-P", "-u"],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["chpst"],
        shell: false,
        value_flags: &[
            "-u", "-U", "-e", "-/", "-n", "-l", "-L", "-m", "-d", "-o", "-p", "-f", "-c", "-r",
            "-t",
        ],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["flock"],
        shell: false,
        value_flags: &["-w", "-E", "--timeout", "--conflict-exit-code"],
        operands: 1,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["stdbuf", "runuser"],
        shell: false,
        value_flags: &["-u", "-g", "-G", "-i", "-o", "-e"],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &["sshpass"],
        shell: false,
        value_flags: &["-p", "-f", "-d", "-P"],
        operands: 0,
        password_flags: &["-p"],
        glued: true,
    },
    Runner {
        names: &["exec"],
        shell: false,
        value_flags: &["-a"],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
    Runner {
        names: &[
            "CMD",
            "CMD-SHELL",
            "time",
            "nohup",
            "command",
            "tini",
            "dumb-init",
            "--",
            "!",
            "{",
            "(",
            "if",
            "then",
            "else",
            "elif",
            "while",
            "until",
            "do",
        ],
        shell: false,
        value_flags: &[],
        operands: 0,
        password_flags: &[],
        glued: false,
    },
];

/// The MySQL and MariaDB command-line clients.
const MYSQL_CLIENTS: &[&str] = &[
    "mysql",
    "mysqladmin",
    "mysqlbinlog",
    "mysqlcheck",
    "mysqldump",
    "mysqlimport",
    "mysqlpump",
    "mysqlsh",
    "mysqlshow",
    "mysqlslap",
    "mysql_upgrade",
    "mariadb",
    "mariadb-admin",
    "mariadb-binlog",
    "mariadb-check",
    "mariadb-dump",
    "mariadb-import",
    "mariadb-show",
    "mariadb-slap",
    "mariadb-upgrade",
];

/// The flags after which a program takes its password as the next word, where the same flag
/// of another program means something else (`mkdir -p`, `cp -a`, `ssh -p 2222`) and a MySQL
/// client's `-p` is followed by its database ([`Owner::password_flags`]). The tools of the
/// MySQL world among them (mydumper, myloader, Percona Toolkit's) also take it glued to `-p`,
/// as the clients do.
fn password_flags(name: &str) -> &'static [&'static str] {
    match name {
        "mydumper" | "myloader" => &["-p", "--password"],
        _ if percona_mysql_tool(name) => &["-p", "--password"],
        "redis-cli" | "valkey-cli" | "keydb-cli" | "redis-benchmark" | "valkey-benchmark"
        | "keydb-benchmark" => &["-a"],
        "mongo" | "mongosh" | "mongodump" | "mongorestore" | "mongoexport" | "mongoimport"
        | "mongostat" | "mongotop" | "mongofiles" => &["-p", "--password"],
        _ => &[],
    }
}

/// Whether `name` takes its password glued to `-p` as a MySQL client does, being one of the
/// MySQL world's tools that [`password_flags`] knows.
fn glued_like_mysql(name: &str) -> bool {
    matches!(name, "mydumper" | "myloader") || percona_mysql_tool(name)
}

/// Percona Toolkit's tools that connect to MySQL with `-p`/`--password` and DSNs
/// (`h=db,u=root,p=…`). Not every `pt-*`: `pt-pmp -p` is a process id, `pt-pg-summary -p` a
/// port, and other programs are called `pt-…` too.
fn percona_mysql_tool(name: &str) -> bool {
    const TOOLS: &[&str] = &[
        "archiver",
        "config-diff",
        "deadlock-logger",
        "duplicate-key-checker",
        "find",
        "fk-error-logger",
        "heartbeat",
        "index-usage",
        "kill",
        "mysql-summary",
        "online-schema-change",
        "query-digest",
        "replica-delay",
        "replica-find",
        "replica-restart",
        "show-grants",
        "slave-delay",
        "slave-find",
        "slave-restart",
        "stalk",
        "table-checksum",
        "table-sync",
        "table-usage",
        "upgrade",
        "variable-advisor",
    ];
    name.strip_prefix("pt-")
        .is_some_and(|tool| TOOLS.contains(&tool))
}

/// The MySQL clients' options whose value is the next word: SQL text (`-e "… -pattern …"`),
/// a host, a user, a database, a port, a socket.
const CLIENT_VALUE_OPTIONS: &[&str] = &[
    "-e",
    "-h",
    "-u",
    "-D",
    "-P",
    "-S",
    "--execute",
    "--host",
    "--user",
    "--database",
    "--port",
    "--socket",
];

/// The variables a container defines (its `environment` and `secrets`), for which a shell
/// default (`${MYSQL_ROOT_PASSWORD:-root}`) is never used: the shell always has the value.
#[derive(Debug, Clone, Copy, Default)]
pub struct Defined<'d> {
    pub names: &'d [&'d str],
    /// The container reads environment files: any variable may be defined there.
    pub any: bool,
}

impl Defined<'_> {
    fn contains(&self, name: &str) -> bool {
        self.any || self.names.contains(&name)
    }
}

/// The program a word of a command belongs to, as far as its options' values go
/// ([`Program::owner`]).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Owner {
    /// The flags after which the program takes its password as the next word
    /// ([`password_flags`]): none for most programs.
    pub(super) password_flags: &'static [&'static str],
    /// A MySQL or MariaDB client (or a tool that takes its password as they do), for which
    /// `-p` and `--password` never take the next word as their value.
    pub(super) mysql: bool,
    /// One of Percona Toolkit's MySQL tools ([`percona_dsn_password`]).
    pub(super) percona: bool,
    /// The password flags take their value glued too ([`Runner::glued`]).
    pub(super) glued: bool,
}

impl Owner {
    /// The value glued to a short password flag (`-pS3cret` → `S3cret`), for an owner that
    /// reads its options as `getopt` does.
    pub(super) fn glued_password<'w>(&self, word: &'w str) -> Option<&'w str> {
        if !self.glued {
            return None;
        }
        self.password_flags
            .iter()
            .filter(|f| f.len() == 2)
            .find_map(|f| word.strip_prefix(f))
            .filter(|rest| !rest.is_empty())
    }
}

/// Which program the words of a command line belong to, read word by word.
#[derive(Debug)]
pub(super) struct Program<'d> {
    /// What the container defines: a shell default of it is never used ([`Program::fallback`]).
    defined: Defined<'d>,
    /// The current command runs one of Percona Toolkit's MySQL tools, whose DSNs
    /// (`h=db,u=root,p=…`) carry a password.
    percona: bool,
    /// No program read yet in the current command.
    expecting: bool,
    /// The runner read last, while expecting.
    runner: Option<&'static Runner>,
    /// The next word is the value of a runner's flag.
    skip: bool,
    /// Words the runner still takes before the program.
    operands: u8,
    /// The current command runs a MySQL or MariaDB client, or a tool that takes its password
    /// as they do (glued to `-p`).
    mysql: bool,
    /// The flags after which that program takes its password as the next word
    /// ([`password_flags`]).
    password_flags: &'static [&'static str],
    /// The quote open at this point of the line, if any.
    quote: Option<u8>,
    /// The last word was a shell's `-c`: a quote opening the next word opens a command line,
    /// and is read through.
    after_dash_c: bool,
    /// The quotes that opened those command lines, innermost last (`sh -c "… bash -c '…' …"`),
    /// each read through until it closes.
    through: Vec<u8>,
    /// The last word ended in `\\`: a newline after it continues the line.
    continued: bool,
    /// A comment (`# …`) runs to the end of the line.
    comment: bool,
    /// The next part is the value of a MySQL client's option (`-e 'SQL'`, `-h host`).
    client_value: bool,
    /// Each program found, in order (whether it is a MySQL client), for the tests.
    #[cfg(test)]
    seen: Vec<bool>,
}

impl Default for Program<'_> {
    fn default() -> Self {
        Program {
            defined: Defined::default(),
            percona: false,
            expecting: true,
            runner: None,
            skip: false,
            operands: 0,
            mysql: false,
            password_flags: &[],
            quote: None,
            after_dash_c: false,
            through: Vec::new(),
            continued: false,
            comment: false,
            client_value: false,
            #[cfg(test)]
            seen: Vec::new(),
        }
    }
}

impl<'d> Program<'d> {
    /// A reader for the commands of a container that defines `defined`.
    pub(super) fn within(defined: Defined<'d>) -> Self {
        Program {
            defined,
            ..Program::default()
        }
    }

    /// The default of `value` when it is one shell expansion with a default written out
    /// ([`expansion`]) that can be used: not when the container defines the variable, so
    /// that the shell always has its value.
    pub(super) fn fallback<'v>(&self, value: &'v str) -> Option<&'v str> {
        expansion(value)
            .filter(|(name, _)| !self.defined.contains(name))
            .map(|(_, default)| default)
    }

    /// Reads the next word; returns the password when it is a MySQL client's `-pPASSWORD`.
    pub(super) fn read<'w>(&mut self, word: Word<'w>) -> Option<&'w str> {
        // A newline ends a command, unless a `\\` continues the line or a quote is open (a
        // quoted message of several lines is text, not commands).
        if word.new_line && !self.continued && self.quote.is_none() {
            self.end();
            self.comment = false;
        }
        self.continued = word.text.ends_with('\\');
        let text = word.text;
        if self.comment || (self.quote.is_none() && text.starts_with('#')) {
            self.comment = true;
            return None;
        }
        let bytes = text.as_bytes();
        let mut found = None;
        let mut part_start = 0;
        let mut part_quoted = self.quote.is_some();
        let mut i = 0;
        if self.after_dash_c && self.quote.is_none() {
            if let Some(&q @ (b'\'' | b'"')) = bytes.first() {
                self.through.push(q);
                i = 1;
                part_start = 1;
            }
            // A flag (`-e`, `--`) keeps it for the word after; anything else uses it up.
            self.after_dash_c = text.starts_with('-');
        }
        while i < bytes.len() {
            let b = bytes[i];
            match self.quote {
                Some(b'\'') if b == b'\'' => self.quote = None,
                Some(b'"') if b == b'\\' => i += 1,
                Some(q) if b == q => self.quote = None,
                Some(_) => {}
                None if b == b'\\' => i += 1,
                None if self.through.last() == Some(&b) => {
                    // The end of the command line after `-c` (an outer one still open goes
                    // on). Where its quote also ends the word, so does its command: its last
                    // part is its own, and the words after are the outer command's (a shell's
                    // own arguments, `$0` …), not its program's. A word that goes on
                    // (`'…-p'"'"'S3cret'"'"'…'`, a quote put in as shells do) stays in it.
                    self.through.pop();
                    if i + 1 == bytes.len() {
                        found = found.or_else(|| self.part(text.get(part_start..i), part_quoted));
                        self.end();
                        part_start = i + 1;
                        part_quoted = false;
                    }
                }
                None if b == b'\'' || b == b'"' => self.quote = Some(b),
                None => {
                    let end = separator(&bytes[i..]).or_else(|| {
                        // A lone `&` ends a command only as a word of its own (`2>&1`, a
                        // URL's `&` do not).
                        (text == "&").then_some(1)
                    });
                    if let Some(n) = end {
                        found = found.or_else(|| self.part(text.get(part_start..i), part_quoted));
                        self.end();
                        i += n;
                        part_start = i;
                        part_quoted = false;
                        continue;
                    }
                }
            }
            i += 1;
        }
        found.or_else(|| self.part(text.get(part_start..), part_quoted))
    }

    /// Whether the next argument of an exec-form list (`command`, `entryPoint`, a health
    /// check's `CMD`) is shell text, read word by word with [`Program::read`] and closed with
    /// [`Program::next_argument`]: until the program is known (`"-c", "mysql -pS3cret"`,
    /// `CMD-SHELL`'s string). After, an argument is one argument of that program, whatever
    /// spaces or `;` it holds (`"-e", "SELECT …; …"`): see [`Program::one_argument`].
    pub(super) fn reads_text(&self) -> bool {
        self.expecting
    }

    /// After an argument read as text: quotes and lines do not run on into the next.
    pub(super) fn next_argument(&mut self) {
        self.quote = None;
        self.through.clear();
        self.continued = false;
        self.comment = false;
    }

    /// An argument of an exec-form list once the program is known: one argument of it
    /// ([`Program::program_argument`]), whatever spaces or `;` it holds.
    pub(super) fn one_argument<'w>(&mut self, arg: &'w str) -> Option<&'w str> {
        self.program_argument(arg.trim())
    }

    /// An argument of the known program, from shell text or exec form: a wrapper's `--`
    /// starts the command it runs (`wait-for-it.sh db:3306 -- mysql …`, `runuser -u mysql --
    /// …`); a MySQL client's option value (`-e 'SQL'`) is skipped; else its `-pPASSWORD`.
    fn program_argument<'w>(&mut self, arg: &'w str) -> Option<&'w str> {
        if arg == "--" && !self.mysql {
            self.end();
            return None;
        }
        if !self.mysql || std::mem::take(&mut self.client_value) {
            return None;
        }
        self.client_value = CLIENT_VALUE_OPTIONS.contains(&arg);
        let (password, expands) = mysql_password(arg)?;
        if expands {
            self.fallback(password)
        } else {
            Some(password)
        }
    }

    /// An argument that is not a string (a CloudFormation `!Ref`, a number): a word whose
    /// text is unknown, and so not a flag, a runner or a MySQL client.
    pub(super) fn opaque(&mut self) {
        self.next_argument();
        if self.expecting && !std::mem::take(&mut self.skip) {
            if self.operands > 0 {
                self.operands -= 1;
            } else {
                self.expecting = false;
                self.mysql = false;
                self.password_flags = &[];
                self.percona = false;
            }
        }
    }

    /// The end of a command.
    fn end(&mut self) {
        self.client_value = false;
        self.expecting = true;
        self.runner = None;
        self.skip = false;
        self.operands = 0;
        self.mysql = false;
        self.password_flags = &[];
        self.percona = false;
        self.after_dash_c = false;
    }

    /// Reads one part of a word (all of it, or what stands between separators). `quoted`: the
    /// part begins inside a quote opened by an earlier word (`-e "SELECT … '-prod%'"`), so it
    /// is no argument of its own.
    fn part<'w>(&mut self, part: Option<&'w str>, quoted: bool) -> Option<&'w str> {
        let raw = part.filter(|p| !p.is_empty())?;
        if quoted {
            return None;
        }
        if !self.expecting {
            return self.program_argument(raw);
        }
        if std::mem::take(&mut self.skip) {
            return None;
        }
        let flag = raw.starts_with(['-', '+']);
        // `N=$(mysql …)`: the program of the substitution is the command's.
        let substituted = raw
            .split_once('=')
            .map(|(_, value)| value)
            .filter(|value| !flag && (value.starts_with("$(") || value.starts_with('`')));
        if flag {
            self.skip = self.runner.is_some_and(|r| takes_value(r, raw));
            // `-c`, `-ec`, `-ce`: the shell's command line follows, after other flags or `--`.
            let dash_c = raw.len() > 1
                && !raw.starts_with("--")
                && raw.starts_with('-')
                && raw.contains('c');
            let shell = self.runner.is_some_and(|r| r.shell);
            self.after_dash_c = shell && (dash_c || self.after_dash_c);
            return None;
        }
        if self.operands > 0 {
            // `timeout 5`, `docker exec db`: the runner's own words, whatever they say.
            self.operands -= 1;
            return None;
        }
        let name = program_name(substituted.unwrap_or(raw));
        if let Some(runner) = RUNNERS.iter().find(|r| r.names.contains(&name)) {
            self.runner = Some(runner);
            self.operands = runner.operands;
            // `eval "…"`: its argument is a command line.
            self.after_dash_c = name == "eval";
            return None;
        }
        if substituted.is_none() && raw.contains('=') {
            // `MYSQL_HOST=db mysql …`: an assignment before the program.
            return None;
        }
        self.expecting = false;
        self.password_flags = password_flags(name);
        self.percona = percona_mysql_tool(name);
        self.mysql = glued_like_mysql(name) || MYSQL_CLIENTS.contains(&name);
        #[cfg(test)]
        self.seen.push(self.mysql);
        None
    }

    /// Whether `word` starts a new command by its newline (one not continued by `\`, and not
    /// inside a quote), before it is read.
    pub(super) fn ends_before(&self, word: Word<'_>) -> bool {
        word.new_line && !self.continued && self.quote.is_none()
    }

    /// What the next word belongs to, taken before it is read: a word that ends its command
    /// (`-p S3cret;`) is still the value of the option before it.
    pub(super) fn owner(&self) -> Owner {
        Owner {
            // Before the program, a runner's own (`sshpass -p …`).
            password_flags: if self.expecting {
                self.runner.map_or(&[], |r| r.password_flags)
            } else {
                self.password_flags
            },
            mysql: self.mysql,
            percona: self.percona,
            glued: self.expecting && self.runner.is_some_and(|r| r.glued),
        }
    }
}

/// Whether `word` only runs the command after it (`gosu`, `sh`, `timeout`, …).
pub(super) fn runs_a_command(word: &str) -> bool {
    let name = program_name(word);
    RUNNERS.iter().any(|r| r.names.contains(&name))
}

/// The program a word names: without what opens a subshell or a substitution before it
/// (`(mysql`, `$(mysql`, `` `mysql ``), quotes, or a directory.
fn program_name(raw: &str) -> &str {
    let word = if raw.len() > 1 {
        raw.trim_start_matches(['(', '$', '`', '{'])
    } else {
        raw
    };
    let word = word.trim_matches(|c| c == '"' || c == '\'');
    word.rsplit('/').next().unwrap_or(word)
}

/// Whether `flag` of `runner` takes the next word as its value: itself, or a cluster of short
/// flags ending in one (`bash -euo pipefail`).
fn takes_value(runner: &Runner, flag: &str) -> bool {
    if runner.value_flags.contains(&flag) {
        return true;
    }
    let bytes = flag.as_bytes();
    let cluster = bytes.len() > 2 && bytes.first() == Some(&b'-') && bytes.get(1) != Some(&b'-');
    if !cluster {
        return false;
    }
    let value_flag = |b: &u8| {
        runner
            .value_flags
            .iter()
            .any(|f| f.as_bytes() == [b'-', *b])
    };
    if runner.glued {
        // As `getopt` reads a cluster: its first flag that takes a value takes the rest of the
        // word (`-pS3cret`), or the next word when it ends the cluster (`-ep`).
        return bytes
            .get(1..)
            .and_then(|flags| flags.iter().position(value_flag))
            .is_some_and(|i| i + 2 == bytes.len());
    }
    bytes.last().is_some_and(value_flag)
}

/// The password of `-pPASSWORD`, quotes (and the backslashes of escaped quotes) taken off —
/// unless it is absent (`-p` alone asks for it) or computed: `$` expands, except inside single
/// quotes (`-p'$ecret'` is written as it stands), and `$(…)` and backquotes always count as
/// computed (single quotes inside a double-quoted script do not stop them). Unquoted, a
/// redirection ends it (`-p<schema.sql` is a bare `-p`, `-pS3cret>out` is `S3cret`), and so
/// does the `)` closing a subshell.
fn mysql_password(raw: &str) -> Option<(&str, bool)> {
    let quotes = |c: char| c == '"' || c == '\'' || c == '\\';
    let rest = raw.trim_start_matches(quotes).strip_prefix("-p")?;
    let rest = if rest.starts_with(quotes) {
        rest
    } else {
        let rest = rest.split(['<', '>']).next().unwrap_or_default();
        // `-pS3cret)` closes a subshell; `-p%(password)s` is a template, whole.
        match rest.find(')') {
            Some(i) if !rest.get(..i).is_some_and(|r| r.contains('(')) => {
                rest.get(..i).unwrap_or_default()
            }
            _ => rest,
        }
    };
    let password = rest.trim_matches(quotes);
    let single = raw.starts_with('\'') || rest.starts_with('\'');
    let literal = single && !raw.trim_matches('\'').contains(['"', '\\']);
    let substitution = password.contains("$(") || password.contains('`');
    let expands = password.contains('$');
    // An expansion: its default, if it has one that is used, is [`Program::fallback`]'s to say.
    if expands && !literal {
        return Some((password, true));
    }
    (!password.is_empty() && !substitution).then_some((password, false))
}

/// The variable and the default of a value that is one shell expansion with its default
/// written out — `${PW:-S3cret}`, `${PW:=S3cret}`, the default quoted or not (and
/// CloudFormation's `${!PW:-S3cret}` in a `!Sub`, which is the shell's) — so the default is in
/// the file, and used wherever the variable is unset. `None` for any other value, and for a
/// default that is empty or itself computed. `${PW-x}` and `${PW=x}` (without the colon) are
/// left alone: rare in the shell, and `${app-db-pw}` is a Terraform template's variable.
/// `${PW:+x}` (used when the variable *is* set) and `${PW:?message}` are not defaults.
pub(super) fn expansion(value: &str) -> Option<(&str, &str)> {
    let inner = value.strip_prefix("${")?.strip_suffix('}')?;
    let inner = inner.strip_prefix('!').unwrap_or(inner);
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, rest) = inner.split_at(name_len);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let default = rest
        .strip_prefix(":-")
        .or_else(|| rest.strip_prefix(":="))?;
    let default = unquoted(default);
    let computed = default.contains(['$', '`', '(', ')', '{', '}', '"', '\'', '\\']);
    (!default.is_empty() && !computed && !has_whitespace(default)).then_some((name, default))
}

/// `text` without one pair of quotes around all of it (`'S3cret'`, `"-pS3cret"`), else as it
/// stands.
pub(super) fn unquoted(text: &str) -> &str {
    ['"', '\'']
        .iter()
        .find_map(|&q| text.strip_prefix(q)?.strip_suffix(q))
        .unwrap_or(text)
}

/// [`expansion`]'s default, whatever the container defines.
pub(super) fn expansion_default(value: &str) -> Option<&str> {
    expansion(value).map(|(_, default)| default)
}

/// The password of a Percona Toolkit DSN (`h=db,u=root,p=S3cret`, `D=app,t=users,…,p=…`):
/// comma-separated options of one letter each.
pub(super) fn percona_dsn_password(word: &str) -> Option<&str> {
    const KEYS: &[u8] = b"ADFhPpStuLmabi";
    let mut password = None;
    for part in word.split(',') {
        let (key, value) = part.split_once('=')?;
        let &[k] = key.as_bytes() else {
            return None;
        };
        if !KEYS.contains(&k) {
            return None;
        }
        if k == b'p' {
            password = Some(value);
        }
    }
    password.filter(|p| !p.is_empty())
}

/// The value a word holds for the option before it: up to the first `;`, `|`, `&` or `)`
/// outside quotes (`-p S3cret;`, `-a S3cret&&`, `$(… -p S3cret)` end the command there), its
/// quotes taken off.
pub(super) fn value_part(word: &str) -> &str {
    let mut quote = None;
    let end = word
        .char_indices()
        .find(|&(_, c)| match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                false
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                false
            }
            None => matches!(c, ';' | '|' | '&' | ')'),
        })
        .map_or(word.len(), |(i, _)| i);
    word.get(..end)
        .unwrap_or(word)
        .trim_matches(|c| c == '"' || c == '\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_at_whitespace_and_know_their_lines() {
        let read: Vec<(&str, bool)> = words(" a\tb;c\n d \\\n e\u{a0} f\u{b} \n")
            .map(|w| (w.text, w.new_line))
            .collect();
        assert_eq!(
            read,
            vec![
                ("a", false),
                ("b;c", false),
                ("d", true),
                ("\\", false),
                ("e", true),
                ("f", false)
            ]
        );
        assert_eq!(words("").count(), 0);
        assert_eq!(words(" \u{a0} \n").count(), 0);
    }

    /// The programs of `text`'s commands, in order: `mysql` for a MySQL client, else `other`.
    fn programs(text: &str) -> Vec<&'static str> {
        let mut program = Program::default();
        for word in words(text) {
            program.read(word);
        }
        program
            .seen
            .iter()
            .map(|&m| if m { "mysql" } else { "other" })
            .collect()
    }

    #[test]
    fn the_program_is_found_past_what_runs_it() {
        for (text, expected) in [
            ("mysql -uroot", vec!["mysql"]),
            ("/usr/bin/mysqldump app", vec!["mysql"]),
            ("sh -c mysql", vec!["mysql"]),
            ("bash -euo pipefail -c mysqldump", vec!["mysql"]),
            ("/bin/bash -o pipefail -c mysqldump", vec!["mysql"]),
            ("sudo -u mysql ssh -p2222 host", vec!["other"]),
            ("sudo -u root mysql", vec!["mysql"]),
            ("timeout 5 mysqladmin ping", vec!["mysql"]),
            ("nice -n 10 mysqldump", vec!["mysql"]),
            ("MYSQL_HOST=db env -u X mysql", vec!["mysql"]),
            (
                "until mysqladmin ping; do sleep 2; done",
                vec!["mysql", "other", "other"],
            ),
            ("while ! mysqladmin ping", vec!["mysql"]),
            ("N=$(mysql -N -e x)", vec!["mysql"]),
            ("echo $(mysql -N)", vec!["other"]),
            ("(mysql -e x)", vec!["mysql"]),
            ("docker exec -u root db mysql -uroot", vec!["mysql"]),
            ("docker run -d mysql:8 -pfoo", vec![]),
            (
                "docker run --rm -p 3306:3306 mysql:8 mysql -h db",
                vec!["mysql"],
            ),
            ("gosu mysql tar -pczf b .", vec!["other"]),
            ("psql -d mysql -p5432", vec!["other"]),
            ("set -e\nmysql -uroot", vec!["other", "mysql"]),
            ("set -e \\\n mysql -uroot", vec!["other"]),
            ("echo 'it''s; done' mysql", vec!["other"]),
            ("echo \"waiting; for db\" && mysql", vec!["other", "mysql"]),
            (
                "sh -c 'cd /x; mysql -pX' && ls",
                vec!["other", "mysql", "other"],
            ),
        ] {
            assert_eq!(programs(text), expected, "{text}");
        }
    }

    /// The glued passwords `Program` finds in `text`.
    fn glued(text: &str) -> Vec<&str> {
        let mut program = Program::default();
        words(text).filter_map(|w| program.read(w)).collect()
    }

    #[test]
    fn a_glued_password_is_the_clients_and_written_not_computed() {
        for (text, expected) in [
            ("mysql -pS3cret", vec!["S3cret"]),
            ("mysql -p'Xk9;v'", vec!["Xk9;v"]),
            ("mysql -p\"Xk9v\"", vec!["Xk9v"]),
            ("mysql '-pXk9v'", vec!["Xk9v"]),
            ("mysql \"-pXk9v\"", vec!["Xk9v"]),
            ("mysql -p'$ecretPw1'", vec!["$ecretPw1"]),
            ("mysql '-p$ecretPw1'", vec!["$ecretPw1"]),
            ("mysql -p@dm1nPass", vec!["@dm1nPass"]),
            ("cd /x;mysql -pA1", vec!["A1"]),
            ("echo \"waiting for db\";mysqladmin ping -pA1", vec!["A1"]),
            (
                "mysql -e \"CREATE DATABASE x; GRANT ALL ON x.* TO u\" -pA1",
                vec!["A1"],
            ),
            ("sh -c 'mysql -uroot -pA1'", vec!["A1"]),
            ("mysql -p", vec![]),
            ("mysql -p''", vec![]),
            ("mysql -p$PW", vec![]),
            ("mysql -p${PW}", vec![]),
            ("mysql -p\"$PW\"", vec![]),
            ("mysql -p\\\"$PW\\\"", vec![]),
            ("mysql -p'\"$PW\"'", vec![]),
            ("mysql -p`cat f`", vec![]),
            ("mysql -p\"$(cat f)\"", vec![]),
            ("mysql -e \"SELECT 1 WHERE a LIKE '-prod%'\"", vec![]),
            ("mysql -P3306", vec![]),
            ("mysql -pA1;tar -pczf b .", vec!["A1"]),
            ("mysql -p$PW\nredis-cli -p6380", vec![]),
            ("mysql -p$PW & redis-cli -p6380", vec![]),
            ("mysql -p$PW 2>&1 -pA1", vec!["A1"]),
        ] {
            assert_eq!(glued(text), expected, "{text}");
        }
    }
}
