//! The `--help` text, rendered from the tool's clap definition (the one
//! the man page comes from) in clap's own layout. clap's `help` and `usage`
//! features, which would render it, are left out: they weigh about 55 KB in
//! every binary, for a text printed only on request.

use std::fmt::Write;

use clap::{Arg, ArgAction, Command};

/// The help of `command` (a subcommand found with [`find`]): the long form
/// (`--help`) when `long`, else the short one (`-h`). The long form puts each
/// entry's text on the lines below it, as clap does when any long text
/// exists; the short form puts it beside the entry, in a column.
pub fn render(command: &Command, long: bool) -> String {
    let mut command = with_help_flag(command.clone());
    command.build();
    let command = &command;
    let long = long && has_long_text(command);
    let mut out = String::new();
    let about = match long {
        true => command.get_long_about().or(command.get_about()),
        false => command.get_about(),
    };
    if let Some(about) = about {
        let _ = write!(out, "{about}\n\n");
    }
    let _ = writeln!(out, "Usage: {}", usage(command));
    let shown = |arg: &&Arg| !arg.is_hide_set();
    let arguments: Vec<&Arg> = command.get_positionals().filter(shown).collect();
    let options: Vec<&Arg> = command
        .get_arguments()
        .filter(|arg| !arg.is_positional())
        .filter(shown)
        .collect();
    let entries = |args: &[&Arg]| -> Vec<(String, String)> {
        args.iter()
            .map(|arg| (spec(arg), text(arg, long).unwrap_or_default()))
            .collect()
    };
    let commands: Vec<(String, String)> = command
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set())
        .map(|sub| {
            let about = sub.get_about().map(ToString::to_string);
            (sub.get_name().to_string(), about.unwrap_or_default())
        })
        .collect();
    section(&mut out, "Commands", &commands, false);
    section(&mut out, "Arguments", &entries(&arguments), long);
    section(&mut out, "Options", &entries(&options), long);
    let end = out.trim_end().len();
    out.truncate(end);
    out.push('\n');
    out
}

/// `command` with its `-h`/`--help` flags, in every subcommand: clap
/// leaves them out when its `help` feature is (unless a command has its
/// own help text, which this sets, empty: [`render`] writes the text).
/// Parsing and the man page both take the command from here.
pub fn with_help_flag(command: Command) -> Command {
    command.override_help("").mut_subcommands(with_help_flag)
}

/// The (sub)command the words of `args` (`argv[0]` first) name under
/// `command`, built, so that its usage line names its parents.
pub fn find(command: Command, args: &[std::ffi::OsString]) -> Command {
    let mut command = with_help_flag(command);
    command.build();
    let mut found = command;
    for word in args.iter().skip(1).filter_map(|a| a.to_str()) {
        if word == "--" {
            break;
        }
        let sub = found
            .get_subcommands()
            .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
            .cloned();
        if let Some(sub) = sub {
            found = sub;
        }
    }
    found
}

/// The usage line after `Usage: `: the one the definition gives, else the
/// command's name, `[OPTIONS]` when it has options beside help and version,
/// its required options, its arguments and its subcommand.
fn usage(command: &Command) -> String {
    if let Some(usage) = command.get_overridden_usage() {
        return usage.to_string();
    }
    let mut words = vec![command
        .get_bin_name()
        .unwrap_or(command.get_name())
        .to_string()];
    let options = || {
        command.get_arguments().filter(|arg| {
            !arg.is_positional()
                && !arg.is_hide_set()
                && !matches!(
                    arg.get_action(),
                    ArgAction::Help
                        | ArgAction::HelpShort
                        | ArgAction::HelpLong
                        | ArgAction::Version
                )
        })
    };
    if options().any(|arg| !arg.is_required_set()) {
        words.push("[OPTIONS]".to_string());
    }
    words.extend(
        options()
            .filter(|arg| arg.is_required_set())
            .map(ToString::to_string),
    );
    words.extend(
        command
            .get_positionals()
            .filter(|arg| !arg.is_hide_set())
            .map(ToString::to_string),
    );
    if command.has_subcommands() {
        let name = command.get_subcommand_value_name().unwrap_or("COMMAND");
        words.push(match command.is_subcommand_required_set() {
            true => format!("<{name}>"),
            false => format!("[{name}]"),
        });
    }
    words.join(" ")
}

/// Whether the long form differs from the short one: a long about or an
/// entry with a long text (clap's rule).
fn has_long_text(command: &Command) -> bool {
    command.get_long_about().is_some()
        || command
            .get_arguments()
            .any(|arg| !arg.is_hide_set() && arg.get_long_help().is_some())
}

/// An entry as clap shows it: `-u, --user <NAME>`, `    --pivot` (room for
/// a letter), `[COMMAND]...`.
fn spec(arg: &Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(letter), Some(_)) => format!("-{letter}, {arg}"),
        (None, Some(_)) => format!("    {arg}"),
        _ => arg.to_string(),
    }
}

fn text(arg: &Arg, long: bool) -> Option<String> {
    let (first, second) = (arg.get_long_help(), arg.get_help());
    let text = match long {
        true => first.or(second),
        false => second.or(first),
    };
    text.map(ToString::to_string)
}

/// `Heading:` and its entries, each indented by two: the text in a column
/// after the longest entry, or on the lines below every entry when one
/// text would run past column 100 or in the long form (then with a blank
/// line between entries), as clap lays them out.
fn section(out: &mut String, heading: &str, entries: &[(String, String)], long: bool) {
    if entries.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{heading}:");
    let width = entries
        .iter()
        .map(|(spec, _)| spec.len())
        .fold(2, usize::max);
    let taken = width + 4;
    let below = long
        || (taken > 40
            && entries
                .iter()
                .any(|(_, text)| text.chars().count() > 100_usize.saturating_sub(taken)));
    for (n, (spec, text)) in entries.iter().enumerate() {
        if below {
            if long && n > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "  {spec}");
            for line in text.lines() {
                let _ = writeln!(out, "          {line}");
            }
        } else {
            let mut lines = text.lines();
            let first = lines.next().unwrap_or_default();
            let _ = writeln!(out, "  {spec:width$}  {first}");
            for line in lines {
                let _ = writeln!(out, "  {:width$}  {line}", "");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser, Subcommand};

    /// A short text beside its entries, as clap lays it out.
    #[derive(Parser)]
    #[command(name = "t", about = "Does t")]
    struct Short {
        /// Be loud
        #[arg(short, long)]
        verbose: bool,
        /// Where
        #[arg(long, value_name = "DIR")]
        root: Option<String>,
        /// Hidden
        #[arg(long, hide = true)]
        secret: bool,
        /// What to run
        command: Vec<String>,
    }

    #[test]
    fn short_form_puts_texts_in_a_column() {
        let text = render(&Short::command(), true);
        assert_eq!(
            text,
            "Does t\n\n\
             Usage: t [OPTIONS] [COMMAND]...\n\n\
             Arguments:\n  [COMMAND]...  What to run\n\n\
             Options:\n  \
             -v, --verbose     Be loud\n      \
             --root <DIR>  Where\n  \
             -h, --help        Print help\n"
        );
    }

    /// A text that would run past column 100 beside a wide column puts
    /// every text of its section below its entry.
    #[derive(Parser)]
    #[command(name = "t")]
    struct Wide {
        /// A text long enough to run past the hundredth column when it starts after a wide column
        #[arg(long, value_name = "A-VERY-LONG-VALUE-NAME")]
        something_rather_long: Option<String>,
        /// Short
        #[arg(short)]
        x: bool,
    }

    #[test]
    fn a_text_past_column_100_goes_below() {
        let text = render(&Wide::command(), false);
        assert!(
            text.contains("\nOptions:\n      --something-rather-long <A-VERY-LONG-VALUE-NAME>\n          A text long"),
            "{text}"
        );
        assert!(text.contains("\n  -x\n          Short\n"), "{text}");
    }

    /// Any long text: every text goes below its entry, for --help only.
    #[derive(Parser)]
    #[command(name = "t", about = "Does t", long_about = "Does t, at length")]
    struct Long {
        /// Where
        #[arg(long)]
        root: Option<String>,
    }

    #[test]
    fn long_form_puts_texts_below() {
        let text = render(&Long::command(), true);
        assert!(
            text.starts_with("Does t, at length\n\nUsage: t [OPTIONS]\n"),
            "{text}"
        );
        assert!(
            text.contains("\nOptions:\n      --root <ROOT>\n          Where\n\n"),
            "{text}"
        );
        let text = render(&Long::command(), false);
        assert!(text.starts_with("Does t\n\n"), "{text}");
        assert!(text.contains("      --root <ROOT>  Where\n"), "{text}");
    }

    #[derive(Parser)]
    #[command(name = "t", disable_help_subcommand = true)]
    struct Top {
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(Subcommand)]
    enum Sub {
        /// Mount it
        Mount {
            /// The target
            target: String,
        },
        /// Unmount it
        Umount,
    }

    #[test]
    fn subcommands_are_listed_and_found() {
        let text = render(&Top::command(), true);
        assert!(
            text.contains("\nCommands:\n  mount   Mount it\n  umount  Unmount it\n"),
            "{text}"
        );
        let args: Vec<std::ffi::OsString> = ["t", "mount", "--help"].map(Into::into).to_vec();
        let text = render(&find(Top::command(), &args), true);
        assert!(
            text.starts_with("Mount it\n\nUsage: t mount <TARGET>\n"),
            "{text}"
        );
    }
}
