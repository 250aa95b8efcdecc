//! The static CQL check (no server needed): every statement in `cql.rs` parses, names
//! only tables and columns the migrations create, and is a query ScyllaDB answers without
//! a scan: the partition key fully given with `=`, clustering restrictions as a prefix
//! (equalities, then at most one slice), writes addressed to whole primary keys, no
//! `ALLOW FILTERING`, conditions (`IF`) on regular columns, increments only on counters.

use std::collections::HashMap;

use super::{cql, schema};

#[derive(Debug, Default)]
struct Table {
    columns: HashMap<String, String>,
    partition: Vec<String>,
    clustering: Vec<String>,
}

impl Table {
    fn key(&self) -> impl Iterator<Item = &String> {
        self.partition.iter().chain(&self.clustering)
    }
    fn is_key(&self, column: &str) -> bool {
        self.key().any(|k| k == column)
    }
}

/// Words, `?`, and punctuation (`<=`, `>=` kept whole); `<…>` of a collection type as one
/// word with it (`list<text>`).
fn tokens(cql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = cql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            c if c.is_alphanumeric() || c == '_' || c == '\'' || c == '[' => {
                let mut word = c.to_string();
                while let Some(&n) = chars.peek() {
                    // A collection element (`name[?]`) stays one word.
                    if n == '[' && c != '[' {
                        for t in chars.by_ref() {
                            word.push(t);
                            if t == ']' {
                                break;
                            }
                        }
                        break;
                    }
                    let in_type = n == '<' && (word == "list" || word == "set" || word == "map");
                    if n.is_alphanumeric() || n == '_' || n == ']' || in_type {
                        if in_type {
                            for t in chars.by_ref() {
                                word.push(t);
                                if t == '>' {
                                    break;
                                }
                            }
                        } else {
                            word.push(n);
                            chars.next();
                        }
                    } else {
                        break;
                    }
                }
                out.push(word);
            }
            '<' | '>' if chars.peek() == Some(&'=') => {
                chars.next();
                out.push(format!("{c}="));
            }
            c => out.push(c.to_string()),
        }
    }
    out
}

/// A cursor over tokens, case-insensitive for keywords.
struct Parser {
    tokens: Vec<String>,
    at: usize,
}

impl Parser {
    fn new(cql: &str) -> Self {
        Self {
            tokens: tokens(cql),
            at: 0,
        }
    }
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }
    fn peek_is(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.eq_ignore_ascii_case(word))
    }
    fn next(&mut self) -> Result<String, String> {
        let token = self.tokens.get(self.at).cloned().ok_or("unexpected end")?;
        self.at += 1;
        Ok(token)
    }
    fn eat(&mut self, word: &str) -> bool {
        if self.peek_is(word) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, word: &str) -> Result<(), String> {
        if self.eat(word) {
            Ok(())
        } else {
            Err(format!("expected {word:?}, found {:?}", self.peek()))
        }
    }
    fn ident(&mut self) -> Result<String, String> {
        let token = self.next()?;
        if token.chars().all(|c| c.is_alphanumeric() || c == '_') {
            Ok(token.to_ascii_lowercase())
        } else {
            Err(format!("expected a name, found {token:?}"))
        }
    }
    /// A column, or one element of a map column (`name[?]`): the name, and whether it is
    /// an element.
    fn column(&mut self) -> Result<(String, bool), String> {
        let token = self.next()?;
        let (name, element) = match token.strip_suffix("[?]") {
            Some(name) => (name, true),
            None => (token.as_str(), false),
        };
        if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            Ok((name.to_ascii_lowercase(), element))
        } else {
            Err(format!("expected a column, found {token:?}"))
        }
    }
    /// `a, b, c` up to (not including) the closing token.
    fn list(
        &mut self,
        item: impl Fn(&mut Self) -> Result<String, String>,
    ) -> Result<Vec<String>, String> {
        let mut items = vec![item(self)?];
        while self.eat(",") {
            items.push(item(self)?);
        }
        Ok(items)
    }
    fn done(&self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(format!("unexpected {t:?}")),
        }
    }
}

fn marker(p: &mut Parser) -> Result<String, String> {
    let t = p.next()?;
    if t == "?" {
        Ok(t)
    } else {
        Err(format!("expected a ? marker, found {t:?}"))
    }
}

/// The tables the migrations create.
fn tables() -> Result<HashMap<String, Table>, String> {
    let mut tables: HashMap<String, Table> = HashMap::new();
    let statements = std::iter::once(schema::MIGRATIONS_TABLE)
        .chain(schema::MIGRATIONS.iter().flat_map(|m| m.iter().copied()));
    for statement in statements {
        if let Some((name, column, kind)) = alter_table(statement) {
            let table = tables
                .get_mut(&name)
                .ok_or_else(|| format!("{statement}: no table {name} yet"))?;
            if table.columns.insert(column.clone(), kind).is_some() {
                return Err(format!("{statement}: {name} already has {column}"));
            }
            continue;
        }
        let (name, table) = create_table(statement).map_err(|e| format!("{statement}: {e}"))?;
        tables.insert(name, table);
    }
    Ok(tables)
}

/// `ALTER TABLE <name> ADD <column> <type>`: the table, the column and its type.
fn alter_table(cql: &str) -> Option<(String, String, String)> {
    let (table, column) = schema::added_column(cql)?;
    let kind = cql.split_whitespace().last()?.to_ascii_lowercase();
    Some((table.to_string(), column.to_string(), kind))
}

fn create_table(cql: &str) -> Result<(String, Table), String> {
    const TYPES: &[&str] = &[
        "text",
        "int",
        "bigint",
        "blob",
        "boolean",
        "counter",
        "list<text>",
        "map<text,text>",
    ];
    let mut p = Parser::new(cql);
    for word in ["CREATE", "TABLE", "IF", "NOT", "EXISTS"] {
        p.expect(word)?;
    }
    let name = p.ident()?;
    p.expect("(")?;
    let mut table = Table::default();
    loop {
        if p.eat("PRIMARY") {
            p.expect("KEY")?;
            p.expect("(")?;
            if p.eat("(") {
                table.partition = p.list(Parser::ident)?;
                p.expect(")")?;
            } else {
                table.partition = vec![p.ident()?];
            }
            while p.eat(",") {
                table.clustering.push(p.ident()?);
            }
            p.expect(")")?;
        } else {
            let column = p.ident()?;
            let kind = p.next()?.to_ascii_lowercase();
            if !TYPES.contains(&kind.as_str()) {
                return Err(format!("column {column}: unknown type {kind}"));
            }
            if p.eat("PRIMARY") {
                p.expect("KEY")?;
                table.partition = vec![column.clone()];
            }
            table.columns.insert(column, kind);
        }
        if !p.eat(",") {
            break;
        }
    }
    p.expect(")")?;
    if p.eat("WITH") {
        for word in ["CLUSTERING", "ORDER", "BY", "("] {
            p.expect(word)?;
        }
        let order = p.list(|p| {
            let column = p.ident()?;
            let direction = p.next()?;
            if ["ASC", "DESC"].contains(&direction.to_ascii_uppercase().as_str()) {
                Ok(column)
            } else {
                Err(format!("bad direction {direction}"))
            }
        })?;
        p.expect(")")?;
        if order != table.clustering {
            return Err("CLUSTERING ORDER must name the clustering columns in order".into());
        }
    }
    p.done()?;
    if table.partition.is_empty() {
        return Err("no primary key".into());
    }
    for key in table.key() {
        if !table.columns.contains_key(key) {
            return Err(format!("key column {key} is not a column"));
        }
    }
    let counters = table.columns.values().filter(|k| *k == "counter").count();
    if counters > 0 && counters + table.key().count() != table.columns.len() {
        return Err("a counter table may hold only counters beside its key".into());
    }
    Ok((name, table))
}

/// One restriction of a WHERE clause: columns (one, or a tuple) and the operator.
struct Restriction {
    columns: Vec<String>,
    op: String,
}

fn column_in(table: &Table, name: &str, column: &str) -> Result<(), String> {
    if table.columns.contains_key(column) {
        Ok(())
    } else {
        Err(format!("table {name} has no column {column}"))
    }
}

fn restrictions(p: &mut Parser) -> Result<Vec<Restriction>, String> {
    let mut found = Vec::new();
    loop {
        let columns = if p.eat("(") {
            let columns = p.list(Parser::ident)?;
            p.expect(")")?;
            columns
        } else {
            vec![p.ident()?]
        };
        let op = p.next()?.to_ascii_uppercase();
        if !["=", "<", ">", "<=", ">=", "IN"].contains(&op.as_str()) {
            return Err(format!("unknown operator {op}"));
        }
        if columns.len() > 1 {
            p.expect("(")?;
            let markers = p.list(marker)?;
            p.expect(")")?;
            if markers.len() != columns.len() {
                return Err("a tuple needs one marker per column".into());
            }
        } else {
            marker(p)?;
        }
        found.push(Restriction { columns, op });
        if !p.eat("AND") {
            return Ok(found);
        }
    }
}

/// The WHERE clause as ScyllaDB answers it without filtering. `whole_row`: it must name
/// one row (writes), not a partition range.
fn check_where(
    table: &Table,
    name: &str,
    found: &[Restriction],
    whole_row: bool,
) -> Result<(), String> {
    let mut equal: Vec<&String> = Vec::new();
    let mut slice: Option<&Vec<String>> = None;
    let mut slice_lower = false;
    for r in found {
        for column in &r.columns {
            column_in(table, name, column)?;
            if !table.is_key(column) {
                return Err(format!(
                    "{column} is not a key column of {name}: that needs a scan"
                ));
            }
        }
        if r.op == "=" && r.columns.len() == 1 {
            equal.push(&r.columns[0]);
            continue;
        }
        // One slice: a lower bound, an upper bound, or both on the same columns.
        let lower = r.op.starts_with('>');
        match slice {
            None => slice = Some(&r.columns),
            Some(columns) if *columns == r.columns && lower != slice_lower => {}
            Some(_) => return Err("more than one slice".into()),
        }
        slice_lower = lower;
    }
    for key in &table.partition {
        if !equal.contains(&key) {
            return Err(format!(
                "partition key column {key} of {name} is not given with ="
            ));
        }
    }
    // Clustering columns: equalities on a prefix, then the slice on the next ones.
    let mut next = 0;
    while next < table.clustering.len() && equal.contains(&&table.clustering[next]) {
        next += 1;
    }
    for extra in equal.iter().filter(|c| table.clustering.contains(c)) {
        if table
            .clustering
            .iter()
            .position(|c| c == *extra)
            .unwrap_or(0)
            >= next
        {
            return Err(format!(
                "{extra} is restricted after a gap in the clustering key"
            ));
        }
    }
    if let Some(columns) = slice {
        let expected = table.clustering.get(next..next + columns.len());
        if expected != Some(columns.as_slice()) {
            return Err(format!(
                "the slice on {columns:?} does not follow the clustering order"
            ));
        }
        next += columns.len();
    }
    if whole_row && next < table.clustering.len() {
        return Err(format!("a write must name the whole primary key of {name}"));
    }
    Ok(())
}

/// `IF EXISTS`, `IF NOT EXISTS` (inserts) or `IF col op ? [AND …]` on regular columns.
/// A condition may also test a map's element (`m[?] = ?`) and compare with `null` (unset).
fn check_conditions(p: &mut Parser, table: &Table, name: &str) -> Result<(), String> {
    if p.eat("EXISTS") {
        return Ok(());
    }
    loop {
        let (column, element) = p.column()?;
        column_in(table, name, &column)?;
        if table.is_key(&column) {
            return Err(format!("condition on key column {column}"));
        }
        if element && !table.columns[&column].starts_with("map<") {
            return Err(format!("{column}[?]: {column} is not a map"));
        }
        let op = p.next()?;
        if !["=", "<", ">", "<=", ">="].contains(&op.as_str()) {
            return Err(format!("unknown operator {op}"));
        }
        if !p.eat("null") {
            marker(p)?;
        }
        if !p.eat("AND") {
            return Ok(());
        }
    }
}

/// `USING TTL ?` or `USING TIMESTAMP ?`.
fn using_ttl(p: &mut Parser) -> Result<(), String> {
    if p.eat("USING") {
        if !p.eat("TTL") {
            p.expect("TIMESTAMP")?;
        }
        marker(p)?;
    }
    Ok(())
}

/// The table a write changes, and whether it is a lightweight transaction; `None` for
/// reads.
fn write_kind(cql: &str) -> Option<(String, bool)> {
    let mut p = Parser::new(cql);
    let verb = p.next().ok()?.to_ascii_uppercase();
    let table = match verb.as_str() {
        "INSERT" | "DELETE" => {
            p.next().ok()?;
            p.ident().ok()?
        }
        "UPDATE" => p.ident().ok()?,
        _ => return None,
    };
    let conditional = tokens(cql).iter().any(|t| t.eq_ignore_ascii_case("IF"));
    Some((table, conditional))
}

/// Tables written both with and without conditions: a plain write takes the client's
/// timestamp and may be ordered wrongly against a lightweight transaction's.
fn mixed_writes(statements: &[(&str, &str)]) -> Vec<String> {
    let mut kinds: HashMap<String, (bool, bool)> = HashMap::new();
    for (_, statement) in statements {
        if let Some((table, conditional)) = write_kind(statement) {
            let entry = kinds.entry(table).or_default();
            if conditional {
                entry.0 = true;
            } else {
                entry.1 = true;
            }
        }
    }
    let mut mixed: Vec<String> = kinds
        .into_iter()
        .filter(|(_, (lwt, plain))| *lwt && *plain)
        .map(|(table, _)| table)
        .collect();
    mixed.sort();
    mixed
}

/// Checks one statement against the tables.
fn check(cql: &str, tables: &HashMap<String, Table>) -> Result<(), String> {
    if cql.to_ascii_uppercase().contains("ALLOW FILTERING") {
        return Err("ALLOW FILTERING".into());
    }
    let mut p = Parser::new(cql);
    let table_named = |name: &str| {
        tables
            .get(name)
            .ok_or_else(|| format!("no table {name} in the migrations"))
    };
    let verb = p.next()?.to_ascii_uppercase();
    match verb.as_str() {
        "SELECT" => {
            // A column, or `WRITETIME(column)`.
            let columns = p.list(|p| {
                let column = p.ident()?;
                if column != "writetime" || !p.eat("(") {
                    return Ok(column);
                }
                let column = p.ident()?;
                p.expect(")")?;
                Ok(column)
            })?;
            p.expect("FROM")?;
            let name = p.ident()?;
            let table = table_named(&name)?;
            for column in &columns {
                column_in(table, &name, column)?;
            }
            p.expect("WHERE")?;
            let found = restrictions(&mut p)?;
            check_where(table, &name, &found, false)?;
            if p.eat("ORDER") {
                p.expect("BY")?;
                let column = p.ident()?;
                if table.clustering.first() != Some(&column) {
                    return Err(format!(
                        "ORDER BY {column}: not the first clustering column"
                    ));
                }
                let direction = p.next()?.to_ascii_uppercase();
                if direction != "ASC" && direction != "DESC" {
                    return Err(format!("bad direction {direction}"));
                }
            }
            if p.eat("LIMIT") {
                marker(&mut p)?;
            }
        }
        "INSERT" => {
            p.expect("INTO")?;
            let name = p.ident()?;
            let table = table_named(&name)?;
            p.expect("(")?;
            let columns = p.list(Parser::ident)?;
            p.expect(")")?;
            p.expect("VALUES")?;
            p.expect("(")?;
            let markers = p.list(marker)?;
            p.expect(")")?;
            if markers.len() != columns.len() {
                return Err(format!(
                    "{} columns but {} markers",
                    columns.len(),
                    markers.len()
                ));
            }
            for column in &columns {
                column_in(table, &name, column)?;
            }
            if let Some(missing) = table.key().find(|k| !columns.contains(k)) {
                return Err(format!("the insert leaves key column {missing} out"));
            }
            if p.eat("IF") {
                p.expect("NOT")?;
                p.expect("EXISTS")?;
            }
            using_ttl(&mut p)?;
        }
        "UPDATE" => {
            let name = p.ident()?;
            let table = table_named(&name)?;
            using_ttl(&mut p)?;
            p.expect("SET")?;
            loop {
                let (column, element) = p.column()?;
                column_in(table, &name, &column)?;
                if table.is_key(&column) {
                    return Err(format!("SET on key column {column}"));
                }
                if element && !table.columns[&column].starts_with("map<") {
                    return Err(format!("{column}[?]: {column} is not a map"));
                }
                p.expect("=")?;
                if !element && p.eat("null") {
                    if !p.eat(",") {
                        break;
                    }
                    continue;
                }
                let counter = table.columns[&column] == "counter";
                if counter && (p.ident()? != column || !p.eat("+")) {
                    return Err(format!(
                        "a counter is only incremented: {column} = {column} + ?"
                    ));
                }
                marker(&mut p)?;
                if !p.eat(",") {
                    break;
                }
            }
            p.expect("WHERE")?;
            let found = restrictions(&mut p)?;
            check_where(table, &name, &found, true)?;
            if p.eat("IF") {
                check_conditions(&mut p, table, &name)?;
            }
        }
        "DELETE" => {
            p.expect("FROM")?;
            let name = p.ident()?;
            let table = table_named(&name)?;
            p.expect("WHERE")?;
            let found = restrictions(&mut p)?;
            check_where(table, &name, &found, true)?;
            if p.eat("IF") {
                check_conditions(&mut p, table, &name)?;
            }
        }
        other => return Err(format!("unexpected statement {other}")),
    }
    p.done()
}

#[test]
fn every_statement_parses_and_names_only_what_the_migrations_create() {
    let tables = tables().unwrap();
    assert!(
        tables.len() > 30,
        "the migrations create {} tables",
        tables.len()
    );
    let failures: Vec<String> = cql::ALL
        .iter()
        .filter_map(|(name, statement)| {
            check(statement, &tables)
                .err()
                .map(|e| format!("{name}: {e}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        mixed_writes(cql::ALL),
        Vec::<String>::new(),
        "tables written both ways"
    );
}

#[test]
fn the_check_refuses_what_scylla_would_refuse_or_scan_for() {
    let tables = tables().unwrap();
    let refused = [
        "SELECT nope FROM users WHERE user_id = ?",
        "SELECT WRITETIME(nope) FROM users WHERE user_id = ?",
        "SELECT user_id FROM nowhere WHERE user_id = ?",
        "SELECT user_id FROM users WHERE role = ?",
        "SELECT user_id FROM users_by_day WHERE created_at > ?",
        "SELECT user_id FROM users_by_day WHERE day = ? AND user_id > ?",
        "SELECT day FROM listing_days WHERE listing = ? AND day >= ? AND day >= ?",
        "SELECT user_id FROM users WHERE user_id = ? ALLOW FILTERING",
        "SELECT lead_id FROM leads_by_status_day WHERE status = ?",
        "INSERT INTO users (user_id, role) VALUES (?)",
        "INSERT INTO users_by_day (day, user_id) VALUES (?, ?)",
        "UPDATE events SET booked_slots = ? WHERE title = ?",
        "UPDATE events SET event_id = ? WHERE event_id = ?",
        "UPDATE events SET title = ? WHERE event_id = ? IF event_id = ?",
        "UPDATE stats SET value = ? WHERE name = ?",
        "UPDATE events SET title[?] = ? WHERE event_id = ?",
        "UPDATE leads SET status = ? WHERE lead_id = ? IF verification_notes[?] = null",
        "UPDATE leads SET status = ? WHERE lead_id = ? IF lead_id = null",
        "DELETE FROM users_by_day WHERE day = ?",
        "DROP TABLE users",
    ];
    for statement in refused {
        assert!(check(statement, &tables).is_err(), "accepted: {statement}");
    }
    assert!(check(
        "SELECT lead_id FROM leads_by_day WHERE day = ? ORDER BY lead_id DESC",
        &tables
    )
    .is_err());
    assert_eq!(
        mixed_writes(&[
            (
                "A",
                "UPDATE events SET title = ? WHERE event_id = ? IF EXISTS"
            ),
            ("B", "DELETE FROM events WHERE event_id = ?"),
            ("C", "INSERT INTO users (user_id) VALUES (?)"),
        ]),
        vec!["events".to_string()]
    );
    assert!(
        create_table("CREATE TABLE IF NOT EXISTS t (a text, b whatever, PRIMARY KEY (a))").is_err()
    );
    assert!(create_table("CREATE TABLE IF NOT EXISTS t (a text, PRIMARY KEY (b))").is_err());
}

/// The `Store` implementation calls each operation's inherent method of the same name. Were
/// one missing, the call would find the trait's own method and call itself for ever; this
/// reads the source and makes sure every call has its inherent method.
#[test]
fn every_trait_method_calls_an_inherent_method_that_exists() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store/scylla");
    let mut inherent = String::new();
    let mut trait_impl = String::new();
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        if entry.file_name() == "check.rs" {
            continue; // this file names the headers it looks for
        }
        let source = std::fs::read_to_string(entry.path()).unwrap();
        trait_impl.push_str(&blocks(&source, "impl Store for ScyllaStore {"));
        inherent.push_str(&blocks(&source, "impl ScyllaStore {"));
    }
    // Only methods of `ScyllaStore` itself count (row types have methods of these names).
    let defined = |name: &str| {
        inherent.contains(&format!("fn {name}(")) || inherent.contains(&format!("fn {name}<"))
    };
    let mut calls = 0;
    for piece in trait_impl.split("self").skip(1) {
        let Some(rest) = piece.trim_start().strip_prefix('.') else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if rest[name.len()..].starts_with('(') || rest[name.len()..].starts_with("::<") {
            calls += 1;
            assert!(
                defined(&name),
                "Store for ScyllaStore calls self.{name}, which ScyllaStore does not have"
            );
        }
    }
    assert!(
        calls > 40,
        "only {calls} calls found: the check no longer reads the source"
    );
}

/// The bodies of every block that opens with `header` (braces balanced).
fn blocks(source: &str, header: &str) -> String {
    let mut found = String::new();
    let mut rest = source;
    while let Some(start) = rest.find(header) {
        let body = &rest[start + header.len()..];
        let mut depth = 1;
        let end = body
            .char_indices()
            .find_map(|(i, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(i)
            })
            .unwrap_or(body.len());
        found.push_str(&body[..end]);
        rest = &body[end..];
    }
    found
}
