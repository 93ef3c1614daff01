//! Step 1 of planning: the distinct sources (by identity) the elements
//! use, and the groups (source × recipe) their frames are made in.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::decode;
use super::needs::FrameNeeds;
use crate::key::{recipe_key, Recipe};
use crate::request::{SourceFacts, SourceIdentity};
use crate::str_map::StrMap;
use crate::timeline::Timeline;
use crate::validate::Element;

/// The facts for one source, or a name-only identity when none were given.
pub fn source_facts(src: &str, sources: &BTreeMap<String, SourceFacts>) -> SourceFacts {
    sources.get(src).cloned().unwrap_or_else(|| SourceFacts {
        identity: SourceIdentity::Name {
            name: src.to_string(),
        },
        ..SourceFacts::default()
    })
}

/// One distinct source while planning.
pub(super) struct Source<'a> {
    pub(super) src: &'a str,
    pub(super) facts: Cow<'a, SourceFacts>,
    pub(super) timeline: Cow<'a, Timeline>,
    /// Its recipes (group numbers), in order of first use.
    pub(super) groups: Vec<usize>,
}

/// One source in one recipe while planning.
pub(super) struct Group {
    pub(super) source: usize,
    pub(super) recipe: Recipe,
    pub(super) key: String,
    pub(super) needs: FrameNeeds,
    pub(super) cached: u64,
    pub(super) runs: Vec<decode::Run>,
    /// Plan-wide run number of each of `runs`.
    pub(super) run_ids: Vec<usize>,
}

/// The distinct sources and groups of `elements`, in order of first use,
/// and the group of each element.
pub(super) fn sources_and_groups<'a>(
    elements: &'a [Element],
    sources: &'a BTreeMap<String, SourceFacts>,
) -> (Vec<Source<'a>>, Vec<Group>, Vec<usize>) {
    let mut source_list: Vec<Source> = Vec::new();
    let mut source_of_src: StrMap<usize> = StrMap::with_capacity(sources.len());
    let mut source_of_identity: BTreeMap<SourceIdentity, usize> = BTreeMap::new();
    let mut groups: Vec<Group> = Vec::new();
    let mut element_group = Vec::with_capacity(elements.len());
    for element in elements {
        let source = match source_of_src.get(&element.src) {
            Some(source) => source,
            None => {
                let facts = match sources.get(&element.src) {
                    Some(facts) => Cow::Borrowed(facts),
                    None => Cow::Owned(source_facts(&element.src, sources)),
                };
                let source = *source_of_identity
                    .entry(facts.identity.clone())
                    .or_insert_with(|| {
                        let timeline = match &facts {
                            Cow::Borrowed(f) => f.timeline(),
                            Cow::Owned(f) => Cow::Owned(f.timeline().into_owned()),
                        };
                        source_list.push(Source {
                            src: &element.src,
                            facts,
                            timeline,
                            groups: Vec::new(),
                        });
                        source_list.len() - 1
                    });
                source_of_src.insert(&element.src, source);
                source
            }
        };
        let s = &mut source_list[source];
        let recipe = Recipe::new(element.format, s.facts.alpha, element.transfer);
        // A source has a few recipes at most.
        let group = match s.groups.iter().find(|&&g| groups[g].recipe == recipe) {
            Some(&group) => group,
            None => {
                let key = recipe_key(&s.facts.identity, s.timeline.time_base(), recipe);
                s.groups.push(groups.len());
                groups.push(Group {
                    source,
                    recipe,
                    key,
                    needs: FrameNeeds::default(),
                    cached: 0,
                    runs: Vec::new(),
                    run_ids: Vec::new(),
                });
                groups.len() - 1
            }
        };
        element_group.push(group);
    }

    (source_list, groups, element_group)
}
