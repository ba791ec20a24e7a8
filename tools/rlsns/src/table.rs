//! A table printed the way libsmartcols prints the tables of util-linux
//! tools: aligned columns (numbers to the right, the last column unpadded),
//! raw output with hex escapes (`-r`), JSON (`-J`), and a tree drawn in one
//! column. Columns are truncated only when stdout is a terminal, as
//! libsmartcols does.

use std::io::{self, Write};

/// How a table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Raw,
    Json,
}

/// How one column looks.
#[derive(Debug, Clone, Default)]
pub struct Column {
    pub name: &'static str,
    /// Right-aligned (numbers).
    pub right: bool,
    /// A JSON number rather than a string.
    pub number: bool,
    /// May be cut to fit the terminal.
    pub trunc: bool,
    /// Holds the tree art.
    pub tree: bool,
    /// Holds several values, one per `\n`, each printed on a line of its own.
    pub multiline: bool,
    /// libsmartcols's width hint: a column whose widest cell is at least as
    /// wide as its header but narrower than the hint gets the hint's width.
    pub hint: usize,
}

struct Line {
    cells: Vec<Option<String>>,
    parent: Option<usize>,
    children: Vec<usize>,
}

/// Rows of cells, some of them children of others.
pub struct Table {
    /// The JSON name of the array of rows.
    name: &'static str,
    columns: Vec<Column>,
    lines: Vec<Line>,
}

/// The output options that do not depend on the data.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub format: Format,
    pub noheadings: bool,
    /// Draw the tree with UTF-8 line art (the locale's codeset is UTF-8).
    pub utf8: bool,
    /// The terminal's width when stdout is a terminal; None means no limit.
    pub term_width: Option<usize>,
}

impl Table {
    pub fn new(name: &'static str, columns: Vec<Column>) -> Table {
        Table {
            name,
            columns,
            lines: Vec::new(),
        }
    }

    /// Adds a row below `parent` (a root when None); returns its index.
    pub fn add(&mut self, cells: Vec<Option<String>>, parent: Option<usize>) -> usize {
        let idx = self.lines.len();
        self.lines.push(Line {
            cells,
            parent,
            children: Vec::new(),
        });
        if let Some(p) = parent {
            self.lines[p].children.push(idx);
        }
        idx
    }

    fn is_tree(&self) -> bool {
        self.columns.iter().any(|c| c.tree)
    }

    /// Rows in printing order with their tree art: depth first from the
    /// roots when a column holds the tree, else as added.
    fn order(&self, utf8: bool) -> Vec<(usize, String)> {
        if !self.is_tree() {
            return (0..self.lines.len()).map(|i| (i, String::new())).collect();
        }
        let (branch, right, vertical) = if utf8 {
            ("\u{251c}\u{2500}", "\u{2514}\u{2500}", "\u{2502} ")
        } else {
            ("|-", "`-", "| ")
        };
        let mut out = Vec::with_capacity(self.lines.len());
        // (line, prefix of its children, art of the line itself)
        let mut stack: Vec<(usize, String, String)> = self
            .lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.parent.is_none())
            .map(|(i, _)| (i, String::new(), String::new()))
            .rev()
            .collect();
        while let Some((idx, prefix, art)) = stack.pop() {
            out.push((idx, art));
            let children = &self.lines[idx].children;
            for (n, &child) in children.iter().enumerate().rev() {
                let last = n + 1 == children.len();
                let art = format!("{prefix}{}", if last { right } else { branch });
                let below = format!("{prefix}{}", if last { "  " } else { vertical });
                stack.push((child, below, art));
            }
        }
        out
    }

    /// Writes the table in `style`.
    /// An empty table prints nothing, except as JSON (an empty array).
    pub fn print(&self, out: &mut impl Write, style: &Style) -> io::Result<()> {
        if self.lines.is_empty() && style.format != Format::Json {
            return Ok(());
        }
        match style.format {
            Format::Json => self.print_json(out),
            Format::Raw => self.print_raw(out, style),
            Format::Table => self.print_table(out, style),
        }
    }

    fn print_raw(&self, out: &mut impl Write, style: &Style) -> io::Result<()> {
        let write_row = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = String>| {
            let row: Vec<String> = cells.map(|c| raw_escape(&c)).collect();
            writeln!(out, "{}", row.join(" "))
        };
        if !style.noheadings {
            write_row(out, &mut self.columns.iter().map(|c| c.name.to_string()))?;
        }
        for (idx, art) in self.order(style.utf8) {
            let line = &self.lines[idx];
            write_row(
                out,
                &mut self.columns.iter().enumerate().map(|(c, col)| {
                    let data = line.cells[c].as_deref().unwrap_or_default();
                    if col.tree {
                        format!("{art}{data}")
                    } else {
                        data.to_string()
                    }
                }),
            )?;
        }
        Ok(())
    }

    fn print_json(&self, out: &mut impl Write) -> io::Result<()> {
        write!(out, "{{\n   \"{}\": [\n", self.name)?;
        let roots: Vec<usize> = if self.is_tree() {
            (0..self.lines.len())
                .filter(|&i| self.lines[i].parent.is_none())
                .collect()
        } else {
            (0..self.lines.len()).collect()
        };
        self.json_rows(out, &roots, 2)?;
        write!(out, "\n   ]\n}}\n")
    }

    /// Objects at `level` (3 spaces each), separated by `},{` as libsmartcols
    /// writes them.
    fn json_rows(&self, out: &mut impl Write, rows: &[usize], level: usize) -> io::Result<()> {
        let pad = "   ".repeat(level);
        let inner = "   ".repeat(level + 1);
        for (n, &idx) in rows.iter().enumerate() {
            if n == 0 {
                writeln!(out, "{pad}{{")?;
            } else {
                writeln!(out, ",{{")?;
            }
            let line = &self.lines[idx];
            for (c, col) in self.columns.iter().enumerate() {
                if c > 0 {
                    out.write_all(b",\n")?;
                }
                let key = col.name.to_lowercase();
                match line.cells[c].as_deref() {
                    Some(v) if !v.is_empty() && col.number => write!(out, "{inner}\"{key}\": {v}")?,
                    Some(v) if !v.is_empty() => {
                        let quoted = serde_json::to_string(v).map_err(io::Error::other)?;
                        write!(out, "{inner}\"{key}\": {quoted}")?
                    }
                    _ => write!(out, "{inner}\"{key}\": null")?,
                }
            }
            if self.is_tree() && !line.children.is_empty() {
                write!(out, ",\n{inner}\"children\": [\n")?;
                self.json_rows(out, &line.children, level + 2)?;
                write!(out, "\n{inner}]")?;
            }
            write!(out, "\n{pad}}}")?;
        }
        Ok(())
    }

    fn print_table(&self, out: &mut impl Write, style: &Style) -> io::Result<()> {
        let order = self.order(style.utf8);
        // Every cell as printed: escaped, with its tree art.
        let rows: Vec<Vec<String>> = order
            .iter()
            .map(|(idx, art)| {
                let line = &self.lines[*idx];
                self.columns
                    .iter()
                    .enumerate()
                    .map(|(c, col)| {
                        let data = safe_encode(
                            line.cells[c].as_deref().unwrap_or_default(),
                            style.utf8,
                            col.multiline,
                        );
                        if col.tree {
                            format!("{art}{data}")
                        } else {
                            data
                        }
                    })
                    .collect()
            })
            .collect();
        let ncols = self.columns.len();
        let mins: Vec<usize> = self.columns.iter().map(|c| width(c.name)).collect();
        let mut widths = vec![0; ncols];
        let mut tree_art = vec![0; ncols];
        for (row, (_, art)) in rows.iter().zip(&order) {
            for (c, cell) in row.iter().enumerate() {
                let w = if self.columns[c].multiline {
                    cell.split('\n').map(width).max().unwrap_or(0)
                } else {
                    width(cell)
                };
                widths[c] = widths[c].max(w);
                if self.columns[c].tree {
                    tree_art[c] = tree_art[c].max(width(art));
                }
            }
        }
        for (c, col) in self.columns.iter().enumerate() {
            if widths[c] < mins[c] {
                widths[c] = mins[c];
            } else if widths[c] < col.hint && mins[c] < col.hint {
                widths[c] = col.hint;
            }
        }
        let trunc: Vec<bool> = self
            .columns
            .iter()
            .map(|c| c.trunc && !c.multiline)
            .collect();
        if let Some(term) = style.term_width {
            fit(&mut widths, &mins, &tree_art, &trunc, term);
        }
        let layout = Layout {
            columns: &self.columns,
            widths: &widths,
            trunc: &trunc,
        };
        if !style.noheadings {
            let header: Vec<String> = self.columns.iter().map(|c| c.name.to_string()).collect();
            layout.write_row(out, &header)?;
        }
        for row in &rows {
            let chunks: Vec<Vec<&str>> = row
                .iter()
                .zip(&self.columns)
                .map(|(cell, col)| {
                    if col.multiline {
                        cell.split('\n').collect()
                    } else {
                        vec![cell.as_str()]
                    }
                })
                .collect();
            let height = chunks.iter().map(Vec::len).max().unwrap_or(1);
            for k in 0..height {
                let cells: Vec<String> = chunks
                    .iter()
                    .map(|c| c.get(k).copied().unwrap_or_default().to_string())
                    .collect();
                layout.write_row(out, &cells)?;
            }
        }
        Ok(())
    }
}

/// Column widths and flags, settled.
struct Layout<'a> {
    columns: &'a [Column],
    widths: &'a [usize],
    trunc: &'a [bool],
}

impl Layout<'_> {
    /// One printed line: cells padded to their widths, the last one unpadded
    /// unless it is right-aligned.
    fn write_row(&self, out: &mut impl Write, cells: &[String]) -> io::Result<()> {
        let mut text = String::new();
        for c in 0..cells.len() {
            let last = c + 1 == cells.len();
            let w = self.widths[c];
            let mut cell = cells[c].as_str();
            if self.trunc[c] && width(cell) > w {
                cell = cut(cell, w);
            }
            let pad = w.saturating_sub(width(cell));
            if self.columns[c].right {
                text.extend(std::iter::repeat_n(' ', pad));
                text.push_str(cell);
            } else {
                text.push_str(cell);
                if !last {
                    text.extend(std::iter::repeat_n(' ', pad));
                }
            }
            if !last {
                text.push(' ');
            }
        }
        text.push('\n');
        out.write_all(text.as_bytes())
    }
}

/// Narrows the columns to a terminal of `term` columns as libsmartcols does
/// for lsns: truncatable columns lose one column each round until the table
/// fits or they reach their header's width (never eating the tree art).
/// What still does not fit runs past the terminal's edge.
fn fit(widths: &mut [usize], mins: &[usize], tree_art: &[usize], trunc: &[bool], term: usize) {
    let mut total: usize = widths.iter().sum::<usize>() + widths.len().saturating_sub(1);
    while total > term {
        let before = total;
        for c in 0..widths.len() {
            if total <= term {
                break;
            }
            if !trunc[c] || widths[c] == mins[c] || widths[c] == 0 || total <= tree_art[c] {
                continue;
            }
            widths[c] -= 1;
            total -= 1;
        }
        if total == before {
            break;
        }
    }
}

/// The width of printed text, one column per character.
fn width(s: &str) -> usize {
    s.chars().count()
}

/// The first `w` characters of `s`.
fn cut(s: &str, w: usize) -> &str {
    match s.char_indices().nth(w) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// Raw output (libsmartcols `fputs_nonblank`): blanks, backslashes and
/// bytes that are not printable ASCII become `\xHH`.
pub fn raw_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b == b' ' || b == b'\t' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            out.push_str(&format!("\\x{b:02x}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// Table output (libsmartcols `mbs_safe_encode`): control characters, and
/// outside a UTF-8 locale every non-ASCII byte, become `\xHH`; so does the
/// backslash of a literal `\x`. A newline is escaped too (a command line
/// may hold one), except in a multi-line column, where it separates values.
fn safe_encode(s: &str, utf8: bool, multiline: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(ch) = chars.next() {
        let control =
            (ch as u32) < 0x20 && !(multiline && ch == '\n') || ('\u{7f}'..='\u{9f}').contains(&ch);
        let escape =
            control || (!utf8 && !ch.is_ascii()) || (ch == '\\' && chars.peek() == Some(&'x'));
        if escape {
            let mut buf = [0u8; 4];
            for b in ch.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(format: Format) -> Style {
        Style {
            format,
            noheadings: false,
            utf8: false,
            term_width: None,
        }
    }

    fn sample() -> Table {
        let cols = vec![
            Column {
                name: "NS",
                right: true,
                number: true,
                hint: 3,
                ..Column::default()
            },
            Column {
                name: "COMMAND",
                trunc: true,
                tree: true,
                ..Column::default()
            },
        ];
        let mut t = Table::new("namespaces", cols);
        let a = t.add(vec![Some("1".into()), Some("init x".into())], None);
        t.add(vec![Some("22".into()), Some("child".into())], Some(a));
        t.add(vec![Some("3".into()), None], None);
        t
    }

    fn render(t: &Table, s: &Style) -> String {
        let mut out = Vec::new();
        t.print(&mut out, s).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_aligns_and_draws_the_tree() {
        assert_eq!(
            render(&sample(), &style(Format::Table)),
            " NS COMMAND\n  1 init x\n 22 `-child\n  3 \n"
        );
    }

    #[test]
    fn raw_escapes_blanks() {
        assert_eq!(
            render(&sample(), &style(Format::Raw)),
            "NS COMMAND\n1 init\\x20x\n22 `-child\n3 \n"
        );
    }

    #[test]
    fn json_nests_children_like_libsmartcols() {
        let text = render(&sample(), &style(Format::Json));
        assert!(text.starts_with("{\n   \"namespaces\": [\n      {\n         \"ns\": 1,\n"));
        assert!(text.contains("\"children\": [\n            {\n               \"ns\": 22,"));
        assert!(text
            .contains("},{\n         \"ns\": 3,\n         \"command\": null\n      }\n   ]\n}\n"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["namespaces"][0]["children"][0]["command"], "child");
    }

    #[test]
    fn empty_json_array_is_written_as_libsmartcols_does() {
        let t = Table::new("namespaces", sample().columns);
        assert_eq!(
            render(&t, &style(Format::Json)),
            "{\n   \"namespaces\": [\n\n   ]\n}\n"
        );
    }

    #[test]
    fn terminal_width_truncates_only_truncatable_columns() {
        let mut s = style(Format::Table);
        s.term_width = Some(10);
        let mut t = sample();
        t.add(
            vec![Some("4".into()), Some("a very long command".into())],
            None,
        );
        let text = render(&t, &s);
        assert!(text.contains(" 4 a very "), "{text}");
    }

    #[test]
    fn escapes() {
        assert_eq!(raw_escape("a b\\"), "a\\x20b\\x5c");
        assert_eq!(safe_encode("a\tb é", false, false), "a\\x09b \\xc3\\xa9");
        assert_eq!(safe_encode("a é", true, false), "a é");
        assert_eq!(safe_encode("a\nb", true, false), "a\\x0ab");
        assert_eq!(safe_encode("a\nb", true, true), "a\nb");
    }
}
