//! Which frames of one source and recipe are needed, and by which element
//! first: a sparse map from frame index to the first element (in input
//! order) that shows it, in pages, so a slot far into a long source costs
//! memory for its own frames only.

use std::collections::BTreeMap;

const PAGE_BITS: u32 = 10;
const PAGE: usize = 1 << PAGE_BITS;
const NONE: u32 = u32::MAX;
/// Set on a slot whose frame the store holds (element numbers stay below
/// it: at most `MAX_ELEMENTS`).
const CACHED: u32 = 1 << 31;

type Page = Box<[u32; PAGE]>;

/// Frame index → first element showing it, and whether the store holds it.
#[derive(Clone, Debug, Default)]
pub(crate) struct FrameNeeds {
    pages: BTreeMap<u64, Page>,
    count: u64,
}

impl FrameNeeds {
    /// Element `element` shows frame `index`; returns whether the frame was
    /// new.
    #[cfg(test)]
    pub(crate) fn mark(&mut self, index: u64, element: u32) -> bool {
        let before = self.count;
        self.mark_all(std::iter::once(index), element);
        self.count > before
    }

    /// Element `element` shows `frames` (the pages of consecutive frames
    /// are looked up once).
    pub(crate) fn mark_all(&mut self, frames: impl Iterator<Item = u64>, element: u32) {
        debug_assert!(element < CACHED);
        let Self { pages, count } = self;
        let mut current: Option<(u64, &mut Page)> = None;
        for index in frames {
            let key = index >> PAGE_BITS;
            let page = match current {
                Some((k, page)) if k == key => page,
                _ => pages.entry(key).or_insert_with(|| Box::new([NONE; PAGE])),
            };
            let slot = &mut page[(index as usize) & (PAGE - 1)];
            if *slot == NONE {
                *slot = element;
                *count += 1;
            }
            current = Some((key, page));
        }
    }

    /// Marks the frames `stored` says the store holds; returns how many.
    pub(crate) fn mark_cached(&mut self, mut stored: impl FnMut(u64) -> bool) -> u64 {
        let mut cached = 0;
        for (&page, slots) in &mut self.pages {
            for (i, slot) in slots.iter_mut().enumerate() {
                if *slot != NONE && stored((page << PAGE_BITS) + i as u64) {
                    *slot |= CACHED;
                    cached += 1;
                }
            }
        }
        cached
    }

    /// Distinct frames needed.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// `(frame index, first element, stored)`, ascending by index.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32, bool)> + '_ {
        self.pages.iter().flat_map(|(&page, slots)| {
            slots
                .iter()
                .enumerate()
                .filter(|(_, &e)| e != NONE)
                .map(move |(i, &e)| ((page << PAGE_BITS) + i as u64, e & !CACHED, e & CACHED != 0))
        })
    }

    /// Which of `frames` (needed frames, ascending) the store holds, in
    /// order (the pages of consecutive frames are looked up once).
    pub(crate) fn stored<'a>(
        &'a self,
        frames: impl Iterator<Item = u64> + 'a,
    ) -> impl Iterator<Item = bool> + 'a {
        let mut current: Option<(u64, &Page)> = None;
        frames.map(move |index| {
            let key = index >> PAGE_BITS;
            let page = match current {
                Some((k, page)) if k == key => page,
                _ => &self.pages[&key],
            };
            current = Some((key, page));
            let slot = page[(index as usize) & (PAGE - 1)];
            slot != NONE && slot & CACHED != 0
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
            vec![(7, 1, false), (1024, 2, false), (5_000_000, 3, false)]
        );
        assert_eq!(needs.mark_cached(|i| i >= 1024), 2);
        assert_eq!(
            needs.iter().collect::<Vec<_>>(),
            vec![(7, 1, false), (1024, 2, true), (5_000_000, 3, true)]
        );
        let stored: Vec<bool> = needs.stored([7, 1024, 5_000_000].into_iter()).collect();
        assert_eq!(stored, vec![false, true, true]);
    }
}
