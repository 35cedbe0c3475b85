//! From a spec to the scripts of a generation run: the spec's taxonomy,
//! personas and user simulator as the planner's input, and each planned
//! item as a [`Script`] with its prompts filled.
//!
//! In: a compiled [`Spec`], its emitted prompts (`prompts/assistant.md`,
//! `prompts/user-simulator.md`, `prompts/generation-prompt.md`), a plan.
//! Out: one script per item. Everything here is a pure function of those,
//! so the same spec, seed and N give the same requests on every machine:
//! what makes a resumed run find its calls in the journal.

use crate::facts::LengthRules;
use crate::flows::generate::{BreachPolicy, Mode, Script};
use crate::generate::plan::{self, DimensionIn, FlawIn, Item, PlanInput, ValueIn, WeightedIn};
use crate::model::{BreachPolicy as SpecBreach, Decimal, GenerationMode, Spec};
use serde_json::{Value, json};
use std::sync::Arc;

/// The emitted prompts a run needs.
#[derive(Debug, Clone)]
pub struct Prompts {
    pub assistant: Arc<str>,
    pub user_simulator: Arc<str>,
    pub generation: Arc<str>,
}

fn units(d: &Decimal) -> u64 {
    d.units.max(0) as u64
}

/// The planner's input for a spec.
pub fn plan_input(spec: &Spec) -> PlanInput {
    let dimension = |d: &crate::model::Dimension| DimensionIn {
        id: d.id.name.clone(),
        values: d
            .values
            .iter()
            .map(|v| ValueIn {
                id: v.id.name.clone(),
                text: v.text.value.clone(),
                weight: units(&v.weight),
                subtopics: v.subtopics.iter().map(|s| s.value.clone()).collect(),
            })
            .collect(),
    };
    let weighted = |w: &crate::model::Weighted| WeightedIn {
        id: w.id.name.clone(),
        weight: units(&w.weight),
    };
    let mut input = PlanInput {
        spec_id: spec.domain.id.name.clone(),
        turns: (spec.generation.turns_min, spec.generation.turns_max),
        scenarios: spec
            .generation
            .scenarios
            .iter()
            .map(|s| s.value.clone())
            .collect(),
        ..PlanInput::default()
    };
    if let Some(t) = &spec.taxonomy {
        // The taxonomy says what each conversation is about; the spec's
        // `scenario` lines are for specs without one (a scenario drawn
        // beside a cell would contradict it).
        input.scenarios.clear();
        input.dimensions = t.dimensions.iter().map(dimension).collect();
        input.edge_case_share = t.edge_cases.as_ref().map(units).unwrap_or(0);
        input.edge_cases = t.edge_case_texts.iter().map(|e| e.value.clone()).collect();
    }
    if let Some(p) = &spec.personas {
        input.traits = p.traits.iter().map(dimension).collect();
        input.flaw_free = p.flaw_free.as_ref().map(units).unwrap_or(0);
        input.flaws = p
            .flaw_kinds
            .iter()
            .flat_map(|k| {
                k.flaws.iter().map(|f| FlawIn {
                    id: f.id.name.clone(),
                    kind: k.id.name.clone(),
                    weight: units(&f.weight),
                })
            })
            .collect();
        input.trajectories = p.trajectories.iter().map(weighted).collect();
    }
    if let Some(u) = &spec.user_simulator {
        input.behaviours = u.behaviours.iter().map(weighted).collect();
    }
    input
}

/// Whether a spec's conversations are simulated turn by turn.
pub fn simulates(spec: &Spec) -> bool {
    spec.generation.mode == GenerationMode::Simulate
}

/// The script of one planned item.
pub fn script(spec: &Spec, input: &PlanInput, prompts: &Prompts, item: &Item, seed: u64) -> Script {
    let card = card(spec, item, simulates(spec));
    let user_words = user_words(spec, item);
    let mode = if simulates(spec) {
        let turn_notes = (0..item.turns)
            .map(|turn| {
                let behaviour = plan::behaviour_for(input, seed, item.index, turn)
                    .and_then(|id| Some((id, behaviour_text(spec, id)?)));
                let mut note = match (turn, behaviour) {
                    (0, _) => "This is your first message: open the conversation as this person would, about your situation.".to_string(),
                    (_, Some((id, text))) => format!("In this message, {id}: {}", sentence(text)),
                    (_, None) => "In this message: answer the assistant as this person would.".to_string(),
                };
                if let Some((min, max)) = user_words {
                    note.push_str(&format!(" Write {min} to {max} words."));
                }
                if turn + 1 == item.turns {
                    note.push_str(" This is your last message in this conversation.");
                }
                Arc::from(note)
            })
            .collect();
        Mode::Simulate {
            user_system: Arc::from(if card.is_empty() {
                prompts.user_simulator.trim_end().to_string()
            } else {
                format!("{}\n\n{card}", prompts.user_simulator.trim_end())
            }),
            turn_notes,
        }
    } else {
        Mode::Whole {
            system: Arc::clone(&prompts.generation),
            request: Arc::from(format!(
                "Write the conversation with id `{}`: {} exchanges.\n\n{card}{}{}",
                item.id,
                item.turns,
                if card.is_empty() { "" } else { "\n\n" },
                crate::flows::generate::WHOLE_FORMAT
            )),
        }
    };
    let ratio = spec.generation.ratio.as_ref().map(|r| {
        (
            r.min.units as f64 / 1e9,
            r.max.units as f64 / 1e9,
            r.limit.as_ref().map(|l| l.units as f64 / 1e9),
        )
    });
    Script {
        id: item.id.clone(),
        exchanges: item.turns,
        assistant_system: Arc::clone(&prompts.assistant),
        mode,
        rules: LengthRules { ratio, user_words },
        breach: match spec.generation.breach {
            SpecBreach::Retry => BreachPolicy::Retry,
            SpecBreach::Record => BreachPolicy::Record,
        },
        plan: plan_json(item, seed),
        sample_base: item.index,
    }
}

/// What produced an item, for its output line.
pub fn plan_json(item: &Item, seed: u64) -> Value {
    let mut value = serde_json::to_value(item).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("id");
        map.insert("seed".into(), json!(seed));
    }
    value
}

/// The user's words per message for the item's writing style, when the
/// user simulator gives a range for the value the item has.
fn user_words(spec: &Spec, item: &Item) -> Option<(u32, u32)> {
    let simulator = spec.user_simulator.as_ref()?;
    let taxonomy = spec.taxonomy.as_ref()?;
    simulator.words.iter().find_map(|rule| {
        let dimension = taxonomy.dimensions.get(rule.dimension)?;
        let value = dimension.values.get(rule.value)?;
        (item.value(&dimension.id.name) == Some(value.id.name.as_str()))
            .then_some((rule.min, rule.max))
    })
}

fn behaviour_text<'s>(spec: &'s Spec, id: &str) -> Option<&'s str> {
    spec.user_simulator
        .as_ref()?
        .behaviours
        .iter()
        .find(|b| b.id.name == id)
        .map(|b| b.text.value.as_str())
}

fn sentence(text: &str) -> String {
    crate::emit::sentence(text.to_string())
}

/// The scenario card of an item: the sampled cell and persona, in words,
/// addressed to the simulated user (`to_user`) or, in whole mode, to the
/// writer of both sides. Empty when the spec draws nothing.
pub fn card(spec: &Spec, item: &Item, to_user: bool) -> String {
    let title = if to_user {
        "## Who you are in this conversation\n"
    } else {
        "## The user in this conversation (play them as described)\n"
    };
    let mut out = String::from(title);
    if let Some(taxonomy) = &spec.taxonomy {
        out.push('\n');
        for dimension in &taxonomy.dimensions {
            let Some(value) = item
                .value(&dimension.id.name)
                .and_then(|id| dimension.values.iter().find(|v| v.id.name == id))
            else {
                continue;
            };
            out.push_str(&format!(
                "- {}: {}",
                dimension.title.value, value.text.value
            ));
            if let Some(about) = &value.about {
                out.push_str(&format!(" ({})", about.value));
            }
            out.push('\n');
        }
        if let Some(subtopic) = &item.subtopic {
            out.push_str(&format!("- More precisely: {subtopic}\n"));
        }
    }
    if let Some(scenario) = &item.scenario {
        out.push_str(&format!("\nThe situation: {}\n", scenario.trim()));
    }
    if let Some(edge) = &item.edge_case {
        out.push_str(&format!(
            "\nThis conversation is an edge case: {}\n",
            edge.trim()
        ));
    }
    if let Some(personas) = &spec.personas {
        if !item.persona.traits.is_empty() {
            out.push('\n');
            for (pool, value) in &item.persona.traits {
                let Some(pool) = personas.traits.iter().find(|t| &t.id.name == pool) else {
                    continue;
                };
                let Some(value) = pool.values.iter().find(|v| &v.id.name == value) else {
                    continue;
                };
                out.push_str(&format!("- {}: {}\n", pool.title.value, value.text.value));
            }
        }
        let flaw = |id: &str| {
            personas
                .flaw_kinds
                .iter()
                .flat_map(|k| k.flaws.iter())
                .find(|f| f.id.name == id)
        };
        match &item.persona.primary_flaw {
            None => out.push_str(
                "\nYou talk openly and clearly: no particular flaw gets in the way of the conversation.\n",
            ),
            Some(primary) => {
                out.push_str("\nHow you get in your own way:\n\n");
                let mut describe = |id: &str, label: &str| {
                    if let Some(f) = flaw(id) {
                        out.push_str(&format!("- {label}: {}", f.title.value));
                        if let Some(about) = &f.about {
                            out.push_str(&format!(". {}", sentence(&about.value)));
                        }
                        if let Some(play) = &f.play {
                            out.push_str(&format!(" Play it: {}", sentence(&play.value)));
                        }
                        out.push('\n');
                    }
                };
                describe(primary, "Above all");
                for secondary in &item.persona.secondary_flaws {
                    describe(secondary, "Also, now and then");
                }
            }
        }
        if let Some(trajectory) = item
            .persona
            .trajectory
            .as_ref()
            .and_then(|id| personas.trajectories.iter().find(|t| &t.id.name == id))
        {
            out.push_str(&format!(
                "\nOver the conversation: {}\n",
                sentence(&trajectory.text.value)
            ));
        }
    }
    if out == title {
        return String::new();
    }
    out.trim_end().to_string()
}
