//! Command-line knobs: `--name value` pairs, each with a default and a line of help.

use std::collections::HashMap;

pub struct Knob {
    pub name: &'static str,
    pub default: u64,
    pub help: &'static str,
}

pub struct Knobs(HashMap<&'static str, u64>);

impl Knobs {
    pub fn parse(spec: &[Knob], args: &[String]) -> Result<Self, String> {
        let mut values: HashMap<&'static str, u64> =
            spec.iter().map(|k| (k.name, k.default)).collect();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let name = flag.trim_start_matches("--");
            let knob = spec
                .iter()
                .find(|k| k.name == name)
                .ok_or_else(|| format!("unknown knob {flag}"))?;
            let value = args
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|v| (1..=1_000_000).contains(v))
                .ok_or_else(|| format!("{flag} needs a whole number from 1 to 1000000"))?;
            values.insert(knob.name, value);
        }
        Ok(Self(values))
    }

    /// A knob's value; the name must be one of the scenario's own.
    pub fn get(&self, name: &str) -> u64 {
        match self.0.get(name) {
            Some(value) => *value,
            None => panic!("no knob named {name}"),
        }
    }
}

/// The knobs of one scenario, as `--help` shows them.
pub fn help(spec: &[Knob]) -> String {
    spec.iter()
        .map(|k| format!("    --{:<14} {} (default {})\n", k.name, k.help, k.default))
        .collect()
}
