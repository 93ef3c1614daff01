//! Which frames of one source and recipe are needed, and by which element
//! first: a sparse map from frame index to the first element (in input
//! order) that shows it, in pages, so a slot far into a long source costs
//! memory for its own frames only.

use std::collections::BTreeMap;

const PAGE_BITS: u32 = 10;
const PAGE: usize = 1 << PAGE_BITS;
const NONE: u32 = u32::MAX;

/// Frame index → first element showing it.
#[derive(Clone, Debug, Default)]
pub(crate) struct FrameNeeds {
    pages: BTreeMap<u64, Box<[u32; PAGE]>>,
    count: u64,
}

impl FrameNeeds {
    /// Element `element` shows frame `index`; returns whether the frame was
    /// new.
    pub(crate) fn mark(&mut self, index: u64, element: u32) -> bool {
        let page = self
            .pages
            .entry(index >> PAGE_BITS)
            .or_insert_with(|| Box::new([NONE; PAGE]));
        let slot = &mut page[(index as usize) & (PAGE - 1)];
        if *slot != NONE {
            return false;
        }
        *slot = element;
        self.count += 1;
        true
    }

    /// Distinct frames needed.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// `(frame index, first element)`, ascending by index.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.pages.iter().flat_map(|(&page, slots)| {
            slots
                .iter()
                .enumerate()
                .filter(|(_, &e)| e != NONE)
                .map(move |(i, &e)| ((page << PAGE_BITS) + i as u64, e))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_marks_win_and_iteration_is_ascending() {
        let mut needs = FrameNeeds::default();
        assert!(needs.mark(5_000_000, 3));
        assert!(needs.mark(7, 1));
        assert!(!needs.mark(7, 2));
        assert!(needs.mark(1024, 2));
        assert_eq!(needs.count(), 3);
        assert_eq!(
            needs.iter().collect::<Vec<_>>(),
            vec![(7, 1), (1024, 2), (5_000_000, 3)]
        );
    }
}
