//! Values a one-shot command has finished with, handed up to `main`.
//!
//! After the last page of a 10k-brief build is written, freeing the briefs,
//! the model and the list rows one allocation at a time took ~25 ms on the
//! main thread, while the process was about to exit and hand all of that
//! memory back at once. `main` forgets what it is handed; everything else
//! (tests, the dev server) drops it as usual.

use std::any::Any;

#[derive(Default)]
pub struct Leftovers(Vec<Box<dyn Any + Send>>);

impl Leftovers {
    pub fn keep<T: Send + 'static>(&mut self, value: T) {
        self.0.push(Box::new(value));
    }
}

impl std::fmt::Debug for Leftovers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Leftovers({} values)", self.0.len())
    }
}
