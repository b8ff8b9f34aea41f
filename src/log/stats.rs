//! `chatchunk stats`: what a log holds, per model.

use std::collections::BTreeMap;

use super::{Config, Counts, LogCompletion, LogError, LogReader};

/// The name under which streams that never named their model are counted.
pub const UNKNOWN_MODEL: &str = "(unknown)";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelStats {
    pub streams: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub cached_tokens: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub counts: Counts,
    /// Per model, sorted by name. Token figures are each stream's (last) usage report.
    pub models: BTreeMap<String, ModelStats>,
}

impl Stats {
    pub fn add(&mut self, item: &LogCompletion) {
        let completion = &item.completion;
        let model = completion.model.get().map_or(UNKNOWN_MODEL, |m| m.as_str());
        let entry = match self.models.get_mut(model) {
            Some(entry) => entry,
            None => self.models.entry(model.to_owned()).or_default(),
        };
        entry.streams += 1;
        if let Some(usage) = completion.usage.get() {
            entry.prompt_tokens += usage.prompt_tokens.get().copied().unwrap_or(0);
            entry.completion_tokens += usage.completion_tokens.get().copied().unwrap_or(0);
            entry.total_tokens += usage.total_tokens.get().copied().unwrap_or(0);
            entry.cached_tokens += usage
                .prompt_tokens_details
                .get()
                .and_then(|d| d.cached_tokens.get().copied())
                .unwrap_or(0);
        }
    }

    /// Runs the whole log and counts it.
    pub fn collect(config: Config) -> Result<Stats, LogError> {
        let mut reader = LogReader::open(config)?;
        let mut stats = Stats::default();
        for item in reader.by_ref() {
            stats.add(&item?);
        }
        stats.counts = reader.counts().unwrap_or_default();
        Ok(stats)
    }
}
