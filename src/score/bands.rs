//! Bands turn a score (or a mean of scores) into what to do next.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub name: String,
    pub min: u32,
    pub summary: String,
    /// URL segment under /bands/, unique among the bands.
    #[serde(skip)]
    pub slug: String,
}

/// Bands sorted by `min`, highest first, with a `min = 0` floor guaranteed
/// by config validation so every value finds a band.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands(Vec<Band>);

impl Bands {
    /// `bands` must be non-empty with distinct mins and the lowest at 0;
    /// [`crate::config`] checks that before calling.
    pub fn new(mut bands: Vec<Band>) -> Self {
        bands.sort_by_key(|band| std::cmp::Reverse(band.min));
        Bands(bands)
    }

    pub fn default_bands() -> Self {
        let band = |name: &str, min, summary: &str| Band {
            name: name.to_string(),
            min,
            summary: summary.to_string(),
            slug: slug::slugify(name),
        };
        Bands::new(vec![
            band("Ready", 15, "A seller can act on it within a day."),
            band(
                "Needs work",
                10,
                "Fix the weak components before it goes out.",
            ),
            band(
                "Not ready",
                0,
                "Do not send it: rebuild the packet or the rule.",
            ),
        ])
    }

    /// The band with the highest `min` not above `value`.
    pub fn index_for(&self, value: f64) -> usize {
        self.0
            .iter()
            .position(|band| f64::from(band.min) <= value)
            .unwrap_or(self.0.len() - 1)
    }

    pub fn for_value(&self, value: f64) -> &Band {
        &self.0[self.index_for(value)]
    }

    pub fn iter(&self) -> impl Iterator<Item = &Band> {
        self.0.iter()
    }

    pub fn get(&self, index: usize) -> &Band {
        &self.0[index]
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_min_not_above_value_wins() {
        let bands = Bands::default_bands();
        assert_eq!(bands.for_value(18.0).name, "Ready");
        assert_eq!(bands.for_value(15.0).name, "Ready");
        assert_eq!(bands.for_value(14.99).name, "Needs work");
        assert_eq!(bands.for_value(10.0).name, "Needs work");
        assert_eq!(bands.for_value(9.67).name, "Not ready");
        assert_eq!(bands.for_value(0.0).name, "Not ready");
    }

    #[test]
    fn custom_bands_in_any_order() {
        let band = |name: &str, min| Band {
            name: name.into(),
            min,
            summary: String::new(),
            slug: slug::slugify(name),
        };
        let bands = Bands::new(vec![band("Low", 0), band("Top", 17), band("Mid", 8)]);
        assert_eq!(bands.for_value(16.0).name, "Mid");
        assert_eq!(bands.for_value(17.0).name, "Top");
        assert_eq!(bands.for_value(7.0).name, "Low");
    }
}
