//! Partial work undone on failure: each step pushes its undo, and unless the
//! whole succeeds and commits, dropping the guard undoes the steps, newest
//! first.

/// Undoes what was done so far, newest first, unless `commit` is called.
#[derive(Default)]
pub struct Rollback(Vec<Box<dyn FnOnce()>>);

impl Rollback {
    /// Records how to undo the step just done.
    pub fn push(&mut self, undo: impl FnOnce() + 'static) {
        self.0.push(Box::new(undo));
    }

    /// Keeps what was done: nothing is undone.
    pub fn commit(mut self) {
        self.0.clear();
    }
}

impl Drop for Rollback {
    fn drop(&mut self) {
        while let Some(undo) = self.0.pop() {
            undo();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    fn steps(commit: bool) -> Vec<u8> {
        let undone = Rc::new(RefCell::new(Vec::new()));
        let mut rollback = Rollback::default();
        for step in 1..=3 {
            let undone = Rc::clone(&undone);
            rollback.push(move || undone.borrow_mut().push(step));
        }
        if commit {
            rollback.commit();
        } else {
            drop(rollback);
        }
        let out = undone.borrow().clone();
        out
    }

    #[test]
    fn dropping_undoes_newest_first() {
        assert_eq!(steps(false), [3, 2, 1]);
    }

    #[test]
    fn commit_keeps_everything() {
        assert_eq!(steps(true), Vec::<u8>::new());
    }
}
