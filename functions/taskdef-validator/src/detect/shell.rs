//! Reading a command line as a shell would, as far as finding credentials needs: where one
//! command ends and the next begins, and which program each command runs.
//!
//! Most credentials in a command are found word by word (`--password=x`, `--token x`), and
//! then the program does not matter. One common form is the program's own syntax: a MySQL or
//! MariaDB client takes its password glued to `-p` (`mysqladmin ping -uroot -pS3cret`), where
//! `mkdir -p`, `redis-cli -p6380` and `ssh -p2222` mean something else entirely, and where a
//! bare `-p` asks for the password (the next word is the database). So the words are read
//! with the ends of commands (a newline, `;`, `&&`, `||`, `|`, `&`), and the program of each
//! command is found past what only runs it (`sh -c`, `exec`, `sudo -u mysql`, `timeout 5`, a
//! health check's `CMD-SHELL`, `until`, …).
//!
//! This is not a shell parser: words are split at whitespace whatever the quotes, as before,
//! so that a nested `bash -c '…'` is still read word by word. Quotes matter only to a
//! separator glued inside a word (`-p'a;b'` is one word, `cd /x;mysql` two commands) and to
//! whether a password is written or computed (`-p"$PW"`). The entry points in `detect` decide
//! what a found password is worth; this module imports nothing of them.

/// A word of a command line, or the end of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token<'a> {
    Word(&'a str),
    End,
}

/// The words of `text` and the ends of its commands: a newline (not one escaped by a `\`),
/// and `;`, `&&`, `||`, `|` or a lone `&` — standing alone, or glued to a word outside quotes
/// (`cd /x;mysql`; a lone `&` inside a word is a redirection or a URL's, not an end).
pub(super) fn tokens(text: &str) -> Tokens<'_> {
    Tokens { rest: text }
}

pub(super) struct Tokens<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let bytes = self.rest.as_bytes();
        let mut start = 0;
        loop {
            match bytes.get(start..) {
                Some([b'\\', b'\n', ..]) => start += 2,
                Some([b'\\', b'\r', b'\n', ..]) => start += 3,
                Some([b'\n', ..]) => break,
                Some([c, ..]) if c.is_ascii_whitespace() => start += 1,
                _ => break,
            }
        }
        // Whitespace outside ASCII (a no-break space) separates words too, as it did when
        // words were split with `split_whitespace`.
        let rest = self
            .rest
            .get(start..)?
            .trim_start_matches(|c: char| c.is_whitespace() && !c.is_ascii_whitespace());
        let bytes = rest.as_bytes();
        if bytes.is_empty() {
            self.rest = rest;
            return None;
        }
        if bytes.first() == Some(&b'\n') {
            self.rest = rest.get(1..).unwrap_or_default();
            return Some(Token::End);
        }
        if let Some(n) = separator(bytes).or_else(|| lone_ampersand(bytes)) {
            self.rest = rest.get(n..).unwrap_or_default();
            return Some(Token::End);
        }
        let mut quote = None;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            if c.is_whitespace() {
                end = i;
                break;
            }
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '\'' || c == '"' => quote = Some(c),
                None if i > 0
                    && separator(rest.as_bytes().get(i..).unwrap_or_default()).is_some() =>
                {
                    end = i;
                    break;
                }
                None => {}
            }
        }
        let (word, after) = rest.split_at(end);
        self.rest = after;
        Some(Token::Word(word))
    }
}

/// The length of `;`, `&&`, `||` or `|` at the start of `bytes`.
fn separator(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'&', b'&', ..] | [b'|', b'|', ..] => Some(2),
        [b';' | b'|', ..] => Some(1),
        _ => None,
    }
}

/// A lone `&` (a command sent to the background) at the start of `bytes`; `&>file` is a
/// redirection.
fn lone_ampersand(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'&', b'>', ..] => None,
        [b'&', ..] => Some(1),
        _ => None,
    }
}

/// A word that runs the command after it: the flags of its that take a value, and how many
/// words it takes before that command (`timeout 5 …`, `docker exec CONTAINER …`).
struct Runner {
    names: &'static [&'static str],
    value_flags: &'static [&'static str],
    operands: u8,
}

const RUNNERS: &[Runner] = &[
    Runner {
        names: &["sh", "bash", "ash", "dash", "zsh", "ksh"],
        value_flags: &["-o", "+o", "-O", "+O"],
        operands: 0,
    },
    Runner {
        names: &["sudo"],
        value_flags: &[
            "-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group",
        ],
        operands: 0,
    },
    Runner {
        names: &["env"],
        value_flags: &["-u", "-C", "-S", "--unset", "--chdir", "--split-string"],
        operands: 0,
    },
    Runner {
        names: &["nice"],
        value_flags: &["-n", "--adjustment"],
        operands: 0,
    },
    Runner {
        names: &["timeout"],
        value_flags: &["-s", "-k", "--signal", "--kill-after"],
        operands: 1,
    },
    Runner {
        names: &["xargs"],
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
    },
    Runner {
        names: &["docker", "podman"],
        value_flags: &[
            "-e",
            "-u",
            "-w",
            "--env",
            "--user",
            "--workdir",
            "--env-file",
        ],
        operands: 2,
    },
    Runner {
        names: &["gosu", "su-exec"],
        value_flags: &[],
        operands: 1,
    },
    Runner {
        names: &["exec"],
        value_flags: &["-a"],
        operands: 0,
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
        value_flags: &[],
        operands: 0,
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

/// Which program the words of a command line belong to, read token by token.
#[derive(Debug)]
pub(super) struct Program {
    /// No program read yet in the current command.
    expecting: bool,
    /// The runner read last, while expecting.
    runner: Option<&'static Runner>,
    /// The next word is the value of a runner's flag.
    skip: bool,
    /// Words the runner still takes before the program.
    operands: u8,
    /// The current command runs a MySQL or MariaDB client.
    mysql: bool,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.names.first().copied().unwrap_or_default())
    }
}

impl Default for Program {
    fn default() -> Self {
        Program {
            expecting: true,
            runner: None,
            skip: false,
            operands: 0,
            mysql: false,
        }
    }
}

impl Program {
    /// Reads the next token; returns the password when it is a MySQL client's `-pPASSWORD`.
    pub(super) fn read<'w>(&mut self, token: Token<'w>) -> Option<&'w str> {
        let raw = match token {
            Token::End => {
                *self = Program::default();
                return None;
            }
            Token::Word(raw) => raw,
        };
        if !self.expecting {
            return self.mysql.then(|| mysql_password(raw)).flatten();
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
            return None;
        }
        if substituted.is_none() && raw.contains('=') {
            // `MYSQL_HOST=db mysql …`: an assignment before the program.
            return None;
        }
        self.expecting = false;
        self.mysql = MYSQL_CLIENTS.contains(&name);
        None
    }

    /// Whether the current command runs a MySQL or MariaDB client (for which `-p` and
    /// `--password` never take the next word as their value).
    pub(super) fn mysql(&self) -> bool {
        self.mysql
    }
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
    cluster
        && bytes.last().is_some_and(|last| {
            runner
                .value_flags
                .iter()
                .any(|f| f.as_bytes() == [b'-', *last])
        })
}

/// The password of `-pPASSWORD`, quotes (and the backslashes of escaped quotes) taken off —
/// unless it is absent (`-p` alone asks for it) or computed: `$` and backquotes expand, except
/// inside single quotes (`-p'$ecret'` is written as it stands).
fn mysql_password(raw: &str) -> Option<&str> {
    let rest = raw.strip_prefix("-p")?;
    let quoted = |c: char| c == '"' || c == '\'' || c == '\\';
    let password = rest.trim_matches(quoted);
    let literal = rest.starts_with('\'') && !rest.trim_matches('\'').contains(['"', '\\']);
    let expands = password.contains(['$', '`']);
    (!password.is_empty() && (literal || !expands)).then_some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Option<&str>> {
        tokens(text)
            .map(|t| match t {
                Token::Word(w) => Some(w),
                Token::End => None,
            })
            .collect()
    }

    #[test]
    fn words_and_the_ends_of_commands() {
        assert_eq!(
            read("cd /x;mysql -p'a;b' && tar -czf b.tgz . | gzip\nls \\\n -l & echo a=1&b=2 2>&1 &>/dev/null"),
            vec![
                Some("cd"),
                Some("/x"),
                None,
                Some("mysql"),
                Some("-p'a;b'"),
                None,
                Some("tar"),
                Some("-czf"),
                Some("b.tgz"),
                Some("."),
                None,
                Some("gzip"),
                None,
                Some("ls"),
                Some("-l"),
                None,
                Some("echo"),
                Some("a=1&b=2"),
                Some("2>&1"),
                Some("&>/dev/null"),
            ]
        );
        assert_eq!(read(""), Vec::<Option<&str>>::new());
        assert_eq!(read(" \n\u{a0};;"), vec![None, None, None]);
        assert_eq!(read("a||b"), vec![Some("a"), None, Some("b")]);
    }

    fn programs(text: &str) -> Vec<&'static str> {
        let mut program = Program::default();
        let mut out = Vec::new();
        for token in tokens(text) {
            let before = program.expecting;
            program.read(token);
            if before && !program.expecting {
                out.push(if program.mysql { "mysql" } else { "other" });
            }
        }
        out
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
            ("gosu mysql tar -pczf b .", vec!["other"]),
            ("psql -d mysql -p5432", vec!["other"]),
            ("set -e\nmysql -uroot", vec!["other", "mysql"]),
        ] {
            assert_eq!(programs(text), expected, "{text}");
        }
    }

    #[test]
    fn a_glued_password_is_written_not_computed() {
        for (raw, expected) in [
            ("-pS3cret", Some("S3cret")),
            ("-p'Xk9;v'", Some("Xk9;v")),
            ("-p\"Xk9v\"", Some("Xk9v")),
            ("-p'$ecretPw1'", Some("$ecretPw1")),
            ("-p@dm1nPass", Some("@dm1nPass")),
            ("-p", None),
            ("-p''", None),
            ("-p$PW", None),
            ("-p${PW}", None),
            ("-p\"$PW\"", None),
            ("-p\\\"$PW\\\"", None),
            ("-p'\"$PW\"'", None),
            ("-p`cat f`", None),
            ("-p\"$(cat f)\"", None),
            ("'-prod%'", None),
            ("-P3306", None),
        ] {
            assert_eq!(mysql_password(raw), expected, "{raw}");
        }
    }
}
