//! Lowering the syntax tree into the model, in a documented order of
//! passes:
//!
//! 1. **Blocks.** Gather the top-level blocks; `domain`, `rubric` and
//!    `generation` must appear exactly once; `judge`, `lint`, `taxonomy`,
//!    `personas` and `user_simulator` at most once.
//! 2. **Declarations.** Build every framework, technique, failure mode,
//!    anchor, rubric group, question, example and expert, and the taxonomy
//!    and personas (`super::data`); reject duplicate ids and duplicate
//!    single-valued properties; read numbers and ranges; parse `decide`
//!    expressions.
//! 3. **References.** Resolve `guards`, `instead_of`, `checks`, `shows`,
//!    calibration answers and the user simulator's `words` targets to
//!    indices, suggesting the nearest id when a name is unknown.
//! 4. **Rubric values.** Threshold range, weights summing to 1, N/A
//!    policies only on conditional questions, a rubric small enough for
//!    exact scoring.
//! 5. **Calibration.** Every calibration example answers every question,
//!    then scores as its declared verdict, and every example's answer to a
//!    question decided in code agrees with its counts (see
//!    [`super::calibration`]); skipped when the rubric itself has errors.

use super::calibration::{check_calibration, check_decided_answers};
use super::*;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::syntax::ast::{self, Kw};
use std::collections::HashMap;

/// The most user–assistant exchanges a generated conversation may have: a
/// bound on what generation costs, far above what any pilot needs.
pub const MAX_TURNS: u32 = 100;

/// The result of lowering: a spec when the file has the blocks a spec
/// cannot do without, and every diagnostic found.
pub struct Lowered {
    pub spec: Option<Spec>,
    pub diagnostics: Diagnostics,
}

/// Lowers a parsed file. `source_len` places "missing" diagnostics at the
/// end of an otherwise empty file.
pub fn lower(file: &ast::File) -> Lowered {
    let mut lowerer = Lowerer {
        diagnostics: Diagnostics::new(),
    };
    let spec = lowerer.lower_file(file);
    Lowered {
        spec,
        diagnostics: lowerer.diagnostics,
    }
}

pub(super) struct Lowerer {
    pub(super) diagnostics: Diagnostics,
}

/// Ids already declared in one namespace, to report duplicates.
pub(super) struct Namespace {
    kind: &'static str,
    seen: HashMap<String, Span>,
}

impl Namespace {
    pub(super) fn new(kind: &'static str) -> Self {
        Namespace {
            kind,
            seen: HashMap::new(),
        }
    }

    /// Declares `id`; false (and a diagnostic) when it was declared before.
    pub(super) fn declare(&mut self, id: &Ident, diagnostics: &mut Diagnostics) -> bool {
        if id.name.is_empty() {
            return false;
        }
        if let Some(first) = self.seen.get(&id.name) {
            diagnostics.push(
                Diagnostic::error(
                    "duplicate-id",
                    format!("the {} `{}` is declared twice", self.kind, id.name),
                )
                .at(id.span, "declared again here")
                .also(*first, "first declared here")
                .help(format!(
                    "rename one of them: {} ids must be unique",
                    self.kind
                )),
            );
            return false;
        }
        self.seen.insert(id.name.clone(), id.span);
        true
    }
}

/// Single-valued properties of one block, with duplicate detection.
pub(super) struct Properties<'a> {
    block: &'static str,
    values: Vec<(Kw, &'a ast::Property)>,
}

impl<'a> Properties<'a> {
    pub(super) fn new(block: &'static str) -> Self {
        Properties {
            block,
            values: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, property: &'a ast::Property) {
        self.values.push((property.key.kind, property));
    }

    /// Every value of a repeatable property.
    pub(super) fn all(&self, key: Kw) -> Vec<Text> {
        self.values
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, p)| p.value.clone())
            .collect()
    }

    /// The value of a single-valued property; a repeat is an error.
    pub(super) fn single(&self, key: Kw, diagnostics: &mut Diagnostics) -> Option<Text> {
        let mut found: Option<&ast::Property> = None;
        for (k, property) in &self.values {
            if *k != key {
                continue;
            }
            match found {
                None => found = Some(property),
                Some(first) => diagnostics.push(
                    Diagnostic::error(
                        "duplicate-property",
                        format!("`{}` is given twice in this {}", key.as_str(), self.block),
                    )
                    .at(property.key.span, "given again here")
                    .also(first.key.span, "first given here")
                    .help(format!(
                        "a {} has one `{}`; keep one of them",
                        self.block,
                        key.as_str()
                    )),
                ),
            }
        }
        found.map(|p| p.value.clone())
    }

    /// A required single-valued property.
    fn required(
        &self,
        key: Kw,
        header: Span,
        example: &str,
        diagnostics: &mut Diagnostics,
    ) -> Option<Text> {
        let value = self.single(key, diagnostics);
        if value.is_none() {
            diagnostics.push(
                Diagnostic::error(
                    "missing-property",
                    format!("this {} has no `{}`", self.block, key.as_str()),
                )
                .at(header, format!("`{}` missing", key.as_str()))
                .help(format!("add `{} {example}` inside the block", key.as_str())),
            );
        }
        value
    }
}

/// Declared names, for resolving references.
#[derive(Default)]
struct Names {
    frameworks: HashMap<String, usize>,
    techniques: HashMap<(String, String), TechniqueRef>,
    failures: HashMap<String, usize>,
    /// `always.x` / `never.x` → anchor index.
    anchors: HashMap<String, usize>,
    questions: HashMap<String, usize>,
}

impl Names {
    fn technique_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .techniques
            .keys()
            .map(|(f, t)| format!("{f}.{t}"))
            .collect();
        names.sort();
        names
    }

    fn anchor_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.anchors.keys().cloned().collect();
        names.sort();
        names
    }

    fn failure_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.failures.keys().cloned().collect();
        names.sort();
        names
    }
}

/// The nearest candidate to `name`, if it is close enough to be a typo.
pub fn nearest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c String>,
) -> Option<&'c String> {
    let limit = (name.chars().count() / 3).clamp(1, 5);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

pub(super) fn unknown(
    kind: &str,
    written: &str,
    span: Span,
    candidates: &[String],
    fallback_help: String,
) -> Diagnostic {
    let diagnostic = Diagnostic::error("unknown-reference", format!("unknown {kind} `{written}`"))
        .at(span, format!("no {kind} has this name"));
    match nearest(written, candidates) {
        Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
        None => diagnostic.help(fallback_help),
    }
}

pub(super) fn list_for_help(names: &[String]) -> String {
    const SHOWN: usize = 8;
    let shown: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
    let mut text = shown.join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// The rubric before references are resolved.
struct RubricDraft<'a> {
    threshold: Option<Decimal>,
    definitions: Vec<Definition>,
    gate: Option<(Group, Vec<&'a ast::Question>)>,
    categories: Vec<(Group, Vec<&'a ast::Question>)>,
    span: Span,
    keyword: Span,
}

impl Lowerer {
    pub(super) fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn error_count(&self) -> usize {
        self.diagnostics.count(crate::diagnostics::Severity::Error)
    }

    fn lower_file(&mut self, file: &ast::File) -> Option<Spec> {
        // Pass 1: blocks.
        if file.items.is_empty() {
            // An empty tree is explained by the syntax errors, or by the
            // caller's "empty spec" diagnostic.
            return None;
        }
        let mut domains = Vec::new();
        let mut rubrics = Vec::new();
        let mut generations = Vec::new();
        let mut judges = Vec::new();
        let mut lints = Vec::new();
        let mut taxonomies = Vec::new();
        let mut personas_blocks = Vec::new();
        let mut simulators = Vec::new();
        for item in &file.items {
            match item {
                ast::Item::Domain(d) => domains.push(d),
                ast::Item::Rubric(r) => rubrics.push(r),
                ast::Item::Generation(g) => generations.push(g),
                ast::Item::Judge(j) => judges.push(j),
                ast::Item::Lint(l) => lints.push(l),
                ast::Item::Taxonomy(t) => taxonomies.push(t),
                ast::Item::Personas(p) => personas_blocks.push(p),
                ast::Item::UserSimulator(u) => simulators.push(u),
                _ => {}
            }
        }
        self.at_most_one("domain", domains.iter().map(|d| d.keyword.span));
        self.at_most_one("rubric", rubrics.iter().map(|r| r.keyword.span));
        self.at_most_one("generation", generations.iter().map(|g| g.keyword.span));
        self.at_most_one("judge", judges.iter().map(|j| j.keyword.span));
        self.at_most_one("lint", lints.iter().map(|l| l.keyword.span));
        self.at_most_one("taxonomy", taxonomies.iter().map(|t| t.keyword.span));
        self.at_most_one("personas", personas_blocks.iter().map(|p| p.keyword.span));
        self.at_most_one("user_simulator", simulators.iter().map(|u| u.keyword.span));
        let first = file.items[0].span();
        let start = Span::point(first.start);
        if domains.is_empty() {
            self.error(
                Diagnostic::error("missing-block", "this spec has no `domain` block")
                    .at(start, "the spec starts here")
                    .help("add `domain my_domain { title \"...\" role \"...\" audience \"...\" }`"),
            );
        }
        if rubrics.is_empty() {
            self.error(
                Diagnostic::error("missing-block", "this spec has no `rubric` block")
                    .at(start, "the spec starts here")
                    .help("add `rubric { threshold 0.75  gate safety \"Safety\" { ... }  category ... }`: the rubric defines a good response before anything is generated"),
            );
        }
        if generations.is_empty() {
            self.error(
                Diagnostic::error("missing-block", "this spec has no `generation` block")
                    .at(start, "the spec starts here")
                    .help("add `generation { turns 3..6  length \"...\" }`: the generation prompt needs the shape of a conversation"),
            );
        }

        // Pass 2: declarations.
        let mut names = Names::default();
        let domain = domains.first().map(|d| self.lower_domain(d));
        let mut frameworks = self.lower_frameworks(file, &mut names);
        let failures = self.lower_failures(file, &mut names);
        let mut anchors = self.lower_anchors(file, &mut names);
        let errors_before_rubric = self.error_count();
        let draft = rubrics.first().map(|r| self.lower_rubric(r, &mut names));
        let generation = generations
            .first()
            .and_then(|g| self.lower_generation(g, !simulators.is_empty()));
        let judge = judges
            .first()
            .map(|j| self.lower_judge(j))
            .unwrap_or_default();
        let experts = self.lower_experts(file);
        let taxonomy = taxonomies.first().map(|t| self.lower_taxonomy(t));
        let personas = personas_blocks.first().map(|p| self.lower_personas(p));

        // Passes 3 and 4: references and rubric values.
        self.resolve_guards(file, &mut anchors, &names);
        self.resolve_instead_of(file, &mut frameworks, &names);
        let user_simulator = simulators
            .first()
            .map(|u| self.lower_user_simulator(u, taxonomy.as_ref()));
        let rubric = draft.and_then(|d| self.finish_rubric(d, &names));
        let rubric_sound = rubric.is_some() && self.error_count() == errors_before_rubric;
        let (calibration, fewshots, complete) = self.lower_examples(file, &names, rubric.as_ref());

        let spec = Spec {
            domain: domain?,
            frameworks,
            failures,
            anchors,
            rubric: rubric?,
            calibration,
            fewshots,
            generation: generation?,
            judge,
            experts,
            lint: super::directives::collect(file),
            taxonomy,
            personas,
            user_simulator,
        };

        // Pass 5: calibration verdicts, only on a sound rubric.
        if rubric_sound {
            check_calibration(&spec, &complete, &mut self.diagnostics);
            check_decided_answers(&spec, &mut self.diagnostics);
        }
        Some(spec)
    }

    fn at_most_one(&mut self, block: &str, spans: impl Iterator<Item = Span>) {
        let spans: Vec<Span> = spans.collect();
        for extra in spans.iter().skip(1) {
            self.error(
                Diagnostic::error(
                    "duplicate-block",
                    format!("a spec has one `{block}` block; this is another"),
                )
                .at(*extra, "second block")
                .also(spans[0], "first block")
                .help(format!("merge the two `{block}` blocks into one")),
            );
        }
    }

    fn lower_domain(&mut self, domain: &ast::Domain) -> Domain {
        let mut properties = Properties::new("domain");
        for property in &domain.properties {
            properties.add(property);
        }
        let header = domain.keyword.span.to(domain.id.span);
        let d = &mut self.diagnostics;
        let title = properties.required(
            Kw::Title,
            header,
            "\"Supportive mental-health conversations\"",
            d,
        );
        let role = properties.required(Kw::Role, header, "\"a warm peer-support counsellor\"", d);
        let audience = properties.required(
            Kw::Audience,
            header,
            "\"adults who reach out by text chat\"",
            d,
        );
        let about = properties.single(Kw::About, d);
        let missing = |span: Span| Text {
            value: String::new(),
            style: ast::TextStyle::Quoted,
            span,
        };
        Domain {
            id: domain.id.clone(),
            title: title.unwrap_or_else(|| missing(header)),
            role: role.unwrap_or_else(|| missing(header)),
            audience: audience.unwrap_or_else(|| missing(header)),
            about,
            span: domain.span,
        }
    }

    fn lower_frameworks(&mut self, file: &ast::File, names: &mut Names) -> Vec<Framework> {
        let mut namespace = Namespace::new("framework");
        let mut frameworks = Vec::new();
        for item in &file.items {
            let ast::Item::Framework(f) = item else {
                continue;
            };
            if !namespace.declare(&f.id, &mut self.diagnostics) {
                continue;
            }
            let index = frameworks.len();
            names.frameworks.insert(f.id.name.clone(), index);
            let mut properties = Properties::new("framework");
            let mut techniques = Vec::new();
            let mut technique_names = Namespace::new("technique");
            for entry in &f.items {
                match entry {
                    ast::FrameworkItem::Property(p) => properties.add(p),
                    ast::FrameworkItem::Allow(_) => {}
                    ast::FrameworkItem::Technique(t) => {
                        if !technique_names.declare(&t.id, &mut self.diagnostics) {
                            continue;
                        }
                        names.techniques.insert(
                            (f.id.name.clone(), t.id.name.clone()),
                            TechniqueRef {
                                framework: index,
                                technique: techniques.len(),
                            },
                        );
                        techniques.push(self.lower_technique(t));
                    }
                }
            }
            frameworks.push(Framework {
                id: f.id.clone(),
                title: f.title.clone(),
                about: properties.single(Kw::About, &mut self.diagnostics),
                principles: properties.all(Kw::Principle),
                techniques,
                span: f.span,
            });
        }
        frameworks
    }

    fn lower_technique(&mut self, t: &ast::Technique) -> Technique {
        let mut properties = Properties::new("technique");
        let mut examples = Vec::new();
        for entry in &t.items {
            match entry {
                ast::TechniqueItem::Property(p) => properties.add(p),
                ast::TechniqueItem::Example(e) => examples.push(self.lower_snippet(e)),
                // Resolved in pass 3; suppressions are gathered separately.
                ast::TechniqueItem::InsteadOf(_) | ast::TechniqueItem::Allow(_) => {}
            }
        }
        Technique {
            id: t.id.clone(),
            title: t.title.clone(),
            about: properties.single(Kw::About, &mut self.diagnostics),
            when: properties.single(Kw::When, &mut self.diagnostics),
            examples,
            instead_of: Vec::new(),
            span: t.span,
        }
    }

    fn lower_snippet(&mut self, example: &ast::Example) -> Snippet {
        match &example.body {
            ast::ExampleBody::Text(text) => Snippet::Line(text.clone()),
            ast::ExampleBody::Conversation(c) => {
                if c.turns.is_empty() {
                    self.error(
                        Diagnostic::error("empty-conversation", "this example has no turns")
                            .at(c.span, "empty")
                            .help("write the turns: `{ user \"...\" assistant \"...\" }`"),
                    );
                }
                Snippet::Conversation(lower_turns(&c.turns))
            }
        }
    }

    fn lower_failures(&mut self, file: &ast::File, names: &mut Names) -> Vec<FailureMode> {
        let mut namespace = Namespace::new("failure mode");
        let mut failures = Vec::new();
        for item in &file.items {
            let ast::Item::Failure(f) = item else {
                continue;
            };
            if !namespace.declare(&f.id, &mut self.diagnostics) {
                continue;
            }
            names.failures.insert(f.id.name.clone(), failures.len());
            let mut properties = Properties::new("failure mode");
            let mut examples = Vec::new();
            for entry in &f.items {
                match entry {
                    ast::FailureItem::Property(p) => properties.add(p),
                    ast::FailureItem::Example(e) => examples.push(self.lower_snippet(e)),
                    ast::FailureItem::Allow(_) => {}
                }
            }
            failures.push(FailureMode {
                id: f.id.clone(),
                title: f.title.clone(),
                about: properties.single(Kw::About, &mut self.diagnostics),
                examples,
                sources: properties.all(Kw::Source),
                span: f.span,
            });
        }
        failures
    }

    fn lower_anchors(&mut self, file: &ast::File, names: &mut Names) -> Vec<Anchor> {
        let mut always = Namespace::new("ALWAYS anchor");
        let mut never = Namespace::new("NEVER anchor");
        let mut anchors = Vec::new();
        for item in &file.items {
            let ast::Item::Anchors(block) = item else {
                continue;
            };
            for anchor in &block.anchors {
                let namespace = match block.polarity {
                    Polarity::Always => &mut always,
                    Polarity::Never => &mut never,
                };
                if !namespace.declare(&anchor.id, &mut self.diagnostics) {
                    continue;
                }
                let lowered = Anchor {
                    polarity: block.polarity,
                    id: anchor.id.clone(),
                    text: anchor.text.clone(),
                    guards: Vec::new(),
                    span: anchor.span,
                };
                names.anchors.insert(lowered.reference(), anchors.len());
                anchors.push(lowered);
            }
        }
        anchors
    }

    fn lower_rubric<'a>(&mut self, rubric: &'a ast::Rubric, names: &mut Names) -> RubricDraft<'a> {
        let mut draft = RubricDraft {
            threshold: None,
            definitions: Vec::new(),
            gate: None,
            categories: Vec::new(),
            span: rubric.span,
            keyword: rubric.keyword.span,
        };
        let mut groups = Namespace::new("rubric group");
        let mut questions = Namespace::new("question");
        let mut threshold_span: Option<Span> = None;
        for item in &rubric.items {
            match item {
                ast::RubricItem::Threshold(t) => {
                    if let Some(first) = threshold_span {
                        self.error(
                            Diagnostic::error(
                                "duplicate-property",
                                "the rubric has two thresholds",
                            )
                            .at(t.keyword.span, "given again here")
                            .also(first, "first given here")
                            .help("keep one `threshold`"),
                        );
                        continue;
                    }
                    threshold_span = Some(t.keyword.span);
                    draft.threshold = self.decimal(&t.value, "threshold");
                }
                ast::RubricItem::Define(d) => draft.definitions.push(lower_define(d)),
                ast::RubricItem::Allow(_) => {}
                ast::RubricItem::Group(g) => {
                    let declared = groups.declare(&g.id, &mut self.diagnostics);
                    let mut members = Vec::new();
                    let mut all_na = None;
                    for entry in &g.items {
                        match entry {
                            ast::GroupItem::Question(q) => {
                                if questions.declare(&q.id, &mut self.diagnostics) {
                                    members.push(q);
                                }
                            }
                            ast::GroupItem::Allow(_) => {}
                            ast::GroupItem::AllNa(a) => {
                                if g.kind == ast::GroupKind::Gate {
                                    self.error(
                                        Diagnostic::error("invalid-setting", "`all_na` has no meaning in the gate")
                                            .at(a.span, "not allowed in a gate")
                                            .help("the gate is not weighted: a gate question answered N/A follows its own `na` policy; remove this line"),
                                    );
                                } else if let Some((_, first)) = all_na {
                                    self.error(
                                        Diagnostic::error(
                                            "duplicate-property",
                                            "`all_na` is given twice in this category",
                                        )
                                        .at(a.span, "given again here")
                                        .also(first, "first given here")
                                        .help("keep one `all_na`"),
                                    );
                                } else {
                                    all_na = Some((a.policy(), a.span));
                                }
                            }
                        }
                    }
                    if members.is_empty() && declared {
                        self.error(
                            Diagnostic::error("empty-group", format!("`{}` has no questions", g.id.name))
                                .at(g.id.span, "no questions")
                                .help("add binary questions such as `Q1 \"Does the response ...?\"`, or remove the block"),
                        );
                    }
                    let weight = match &g.weight {
                        Some((_, number)) => self.decimal(number, "weight"),
                        None => None,
                    };
                    let group = Group {
                        id: g.id.clone(),
                        title: g.title.clone(),
                        weight,
                        all_na: all_na.map(|(p, _)| convert_all_na(p)).unwrap_or_default(),
                        questions: Vec::new(),
                        span: g.span,
                    };
                    if !declared {
                        continue;
                    }
                    match g.kind {
                        ast::GroupKind::Gate => {
                            if let Some((first, _)) = &draft.gate {
                                self.error(
                                    Diagnostic::error("duplicate-gate", "the rubric has two gates")
                                        .at(g.keyword.span, "second gate")
                                        .also(first.id.span, "first gate")
                                        .help("a rubric has one safety gate; move these questions into the first gate"),
                                );
                            } else {
                                draft.gate = Some((group, members));
                            }
                        }
                        ast::GroupKind::Category => draft.categories.push((group, members)),
                    }
                }
            }
        }
        // Question indices: gate first, then categories, the order answers
        // and scoring use.
        let mut next = 0;
        for (_, members) in draft.gate.iter().chain(draft.categories.iter()) {
            for q in members {
                names.questions.insert(q.id.name.clone(), next);
                next += 1;
            }
        }
        if threshold_span.is_none() {
            self.error(
                Diagnostic::error("missing-property", "the rubric has no threshold")
                    .at(rubric.keyword.span, "`threshold` missing")
                    .help("add `threshold 0.75`: the weighted score a response needs to pass (the method suggests 0.70 to 0.80)"),
            );
        }
        if draft.gate.is_none() {
            self.error(
                Diagnostic::error("missing-gate", "the rubric has no safety gate")
                    .at(rubric.keyword.span, "no `gate` in this rubric")
                    .help("add `gate safety \"Safety\" { S1 \"Does the response avoid ...?\" }`: any NO on a gate question fails the response"),
            );
        }
        if draft.categories.is_empty() {
            self.error(
                Diagnostic::error("empty-group", "the rubric has no categories")
                    .at(rubric.keyword.span, "no `category` in this rubric")
                    .help("add weighted categories such as `category comprehension \"Comprehension\" weight 0.25 { ... }`"),
            );
        }
        draft
    }

    /// Reads a decimal between 0 and 1 with at most nine places.
    pub(super) fn decimal(&mut self, number: &ast::Number, what: &str) -> Option<Decimal> {
        let Some(units) = crate::score::parse_decimal(&number.raw) else {
            self.error(
                Diagnostic::error("invalid-number", format!("`{}` is not a valid {what}", number.raw))
                    .at(number.span, "at most nine decimal places")
                    .help(format!("write the {what} as a decimal between 0 and 1 with at most nine places, such as `0.25`")),
            );
            return None;
        };
        if units > crate::score::SCALE {
            self.error(
                Diagnostic::error(
                    "invalid-number",
                    format!("a {what} of `{}` is above 1", number.raw),
                )
                .at(number.span, "must be between 0 and 1")
                .help(format!(
                    "write the {what} as a fraction of the whole, such as `0.25`"
                )),
            );
            return None;
        }
        Some(Decimal {
            units,
            raw: number.raw.clone(),
            span: number.span,
        })
    }

    fn finish_rubric(&mut self, draft: RubricDraft<'_>, names: &Names) -> Option<Rubric> {
        let (mut gate, gate_members) = draft.gate?;
        if draft.categories.is_empty() {
            return None;
        }
        let threshold = draft.threshold?;
        let mut questions = Vec::new();
        let mut groups: Vec<(GroupRef, &mut Group, Vec<&ast::Question>)> = Vec::new();
        let mut categories: Vec<Group> = Vec::new();
        let mut category_members = Vec::new();
        for (group, members) in draft.categories {
            categories.push(group);
            category_members.push(members);
        }
        groups.push((GroupRef::Gate, &mut gate, gate_members));
        for (i, (group, members)) in categories.iter_mut().zip(category_members).enumerate() {
            groups.push((GroupRef::Category(i), group, members));
        }
        for (group_ref, group, members) in groups {
            for q in members {
                group.questions.push(questions.len());
                questions.push(self.lower_question(q, group_ref, names));
            }
        }

        if threshold.units == 0 {
            self.error(
                Diagnostic::error("invalid-number", "a threshold of 0 passes every response")
                    .at(threshold.span, "must be above 0")
                    .help("set the score a response needs to pass, such as `threshold 0.75`"),
            );
        }
        self.check_weights(&categories, draft.keyword);
        self.check_exact_scoring(&categories);
        if categories.iter().all(|c| {
            c.all_na == AllNaPolicy::Drop
                && c.questions.iter().all(|&i| questions[i].is_conditional())
        }) {
            self.error(
                Diagnostic::error("nothing-to-score", "every category can drop out: a conversation may have nothing to score")
                    .at(draft.keyword, "every question in every category is conditional")
                    .help("make at least one question unconditional (remove its `when`), or give a category `all_na full_credit`"),
            );
        }
        Some(Rubric {
            threshold,
            definitions: draft.definitions,
            gate,
            categories,
            questions,
            span: draft.span,
        })
    }

    fn check_weights(&mut self, categories: &[Group], rubric_keyword: Span) {
        let weights: Vec<&Decimal> = categories
            .iter()
            .filter_map(|c| c.weight.as_ref())
            .collect();
        if weights.len() != categories.len() {
            return; // an invalid weight was already reported
        }
        let sum: i64 = weights.iter().map(|w| w.units).sum();
        if (sum - crate::score::SCALE).abs() > 1 {
            let listed: Vec<String> = weights.iter().map(|w| w.raw.clone()).collect();
            let difference = crate::score::SCALE - sum;
            let fix = if difference > 0 {
                format!(
                    "add {} to one or more weights",
                    crate::score::format_decimal(difference)
                )
            } else {
                format!(
                    "take {} off one or more weights",
                    crate::score::format_decimal(-difference)
                )
            };
            let mut diagnostic = Diagnostic::error(
                "weights-sum",
                format!(
                    "category weights sum to {}, not 1",
                    crate::score::format_decimal(sum)
                ),
            )
            .at(
                rubric_keyword,
                format!(
                    "{} = {}",
                    listed.join(" + "),
                    crate::score::format_decimal(sum)
                ),
            )
            .help(format!(
                "the weights are shares of the final score and must add up to 1: {fix}"
            ));
            for w in &weights {
                diagnostic = diagnostic.also(w.span, "");
            }
            self.error(diagnostic);
        }
    }

    /// Scores are exact fractions of `i128`. A category score's
    /// denominator is at most its question count, so every sum of category
    /// scores has a denominator dividing L = lcm(1..=largest category); the
    /// weights and the threshold add two factors of 10⁹. Refuse a category
    /// large enough for that to approach `i128::MAX` (more than 46 questions)
    /// rather than ever score it wrongly.
    fn check_exact_scoring(&mut self, categories: &[Group]) {
        const LIMIT: i128 = i128::MAX / (4 * 1_000_000_000 * 1_000_000_000);
        for category in categories {
            let n = category.questions.len() as i128;
            let mut lcm: i128 = 1;
            let mut fits = true;
            for k in 2..=n {
                let g = gcd(lcm, k);
                match (lcm / g).checked_mul(k) {
                    Some(next) if next <= LIMIT => lcm = next,
                    _ => {
                        fits = false;
                        break;
                    }
                }
            }
            if !fits {
                self.error(
                    Diagnostic::error(
                        "rubric-too-large",
                        format!("category `{}` has too many questions to score exactly", category.id.name),
                    )
                    .at(category.id.span, format!("{n} questions"))
                    .help("exact scoring supports up to 46 questions per category, and the method suggests 3 to 4: split the category"),
                );
            }
        }
    }

    fn lower_question(&mut self, q: &ast::Question, group: GroupRef, names: &Names) -> Question {
        let mut definitions = Vec::new();
        let mut condition: Option<(Text, Span)> = None;
        let mut na: Option<(NaPolicy, Span)> = None;
        let computed = self.lower_computed(q);
        if let Some(body) = &q.body {
            for item in &body.items {
                match item {
                    ast::QuestionItem::Define(d) => definitions.push(lower_define(d)),
                    ast::QuestionItem::Allow(_)
                    | ast::QuestionItem::MinTurns(_)
                    | ast::QuestionItem::Facts { .. }
                    | ast::QuestionItem::Decide(_) => {}
                    ast::QuestionItem::When(p) => {
                        if let Some((_, first)) = &condition {
                            self.error(
                                Diagnostic::error("duplicate-property", format!("question `{}` has two `when` conditions", q.id.name))
                                    .at(p.key.span, "given again here")
                                    .also(*first, "first given here")
                                    .help("write one condition; join alternatives in its text (\"the user mentions X or Y\")"),
                            );
                        } else {
                            condition = Some((p.value.clone(), p.key.span));
                        }
                    }
                    ast::QuestionItem::Na {
                        keyword,
                        value,
                        span,
                    } => {
                        let policy = match value.kind {
                            Kw::Yes => NaPolicy::Yes,
                            Kw::No => NaPolicy::No,
                            _ => NaPolicy::Drop,
                        };
                        if let Some((_, first)) = &na {
                            self.error(
                                Diagnostic::error(
                                    "duplicate-property",
                                    format!("question `{}` has two `na` policies", q.id.name),
                                )
                                .at(keyword.span, "given again here")
                                .also(*first, "first given here")
                                .help("keep one `na` policy"),
                            );
                        } else {
                            na = Some((policy, *span));
                        }
                    }
                }
            }
        }
        if let (Some((_, span)), None) = (&na, &condition) {
            self.error(
                Diagnostic::error(
                    "na-without-condition",
                    format!(
                        "question `{}` has an N/A policy but no condition",
                        q.id.name
                    ),
                )
                .at(*span, "only a conditional question can be N/A")
                .also(q.id.span, "this question always applies")
                .help(
                    "add `when \"...\"` to say when the question applies, or remove the `na` line",
                ),
            );
        }
        if let (Some(keyword), true) = (q.checks_keyword, q.checks.is_empty()) {
            self.error(empty_list(
                keyword.span,
                "checks",
                "anchors or failure modes",
                "checks always.name_emotion",
            ));
        }
        if let (Some((_, decide_span)), Some((_, when_span))) = (&computed.decide, &condition) {
            self.error(
                Diagnostic::error("invalid-setting", format!("question `{}` is decided in code but has a `when` condition", q.id.name))
                    .at(*decide_span, "decided from counted facts")
                    .also(*when_span, "only a judge can tell when this holds")
                    .help("the program cannot read a condition: remove `when` (and `na`), or remove `decide` and let the judge answer"),
            );
        }
        let mut checks = Vec::new();
        for reference in &q.checks {
            if let Some(target) = self.resolve_check(reference, names) {
                checks.push((target, reference.span));
            }
        }
        Question {
            id: q.id.clone(),
            text: q.text.clone(),
            group,
            checks,
            definitions,
            condition: condition.map(|(t, _)| t),
            na: na.map(|(p, _)| p).unwrap_or_default(),
            min_turns: computed.min_turns,
            facts: computed.facts,
            decide: computed.decide,
            span: q.span,
        }
    }

    fn resolve_check(&mut self, reference: &ast::Reference, names: &Names) -> Option<CheckTarget> {
        let written = reference.dotted();
        let head = reference
            .parts
            .first()
            .map(|p| p.name.as_str())
            .unwrap_or("");
        if reference.parts.len() == 2 && head == "failure" {
            let name = &reference.parts[1].name;
            if let Some(&i) = names.failures.get(name) {
                return Some(CheckTarget::Failure(i));
            }
            let candidates: Vec<String> = names
                .failure_names()
                .iter()
                .map(|n| format!("failure.{n}"))
                .collect();
            self.error(unknown(
                "failure mode",
                &written,
                reference.span,
                &candidates,
                format!("declare it with `failure {name} \"...\" {{ ... }}`"),
            ));
            return None;
        }
        if let Some(&i) = names.anchors.get(&written) {
            return Some(CheckTarget::Anchor(i));
        }
        let mut candidates = names.anchor_names();
        candidates.extend(names.failure_names().iter().map(|n| format!("failure.{n}")));
        let help = if head == "always" || head == "never" {
            format!(
                "declare it in a `{head}` block, or check one of {}",
                list_for_help(&names.anchor_names())
            )
        } else {
            "a question checks an anchor (`always.x`, `never.x`) or a failure mode (`failure.x`)"
                .to_string()
        };
        self.error(unknown(
            "anchor",
            &written,
            reference.span,
            &candidates,
            help,
        ));
        None
    }

    fn resolve_guards(&mut self, file: &ast::File, anchors: &mut [Anchor], names: &Names) {
        let failure_names = names.failure_names();
        for item in &file.items {
            let ast::Item::Anchors(block) = item else {
                continue;
            };
            for anchor in &block.anchors {
                let reference = format!("{}.{}", block.polarity.as_str(), anchor.id.name);
                let Some(&index) = names.anchors.get(&reference) else {
                    continue;
                };
                // A duplicate anchor is not in `names`, but its twin is: only
                // resolve guards of the declaration that was kept.
                if anchors[index].span != anchor.span {
                    continue;
                }
                if let (Some(keyword), true) = (anchor.guards_keyword, anchor.guards.is_empty()) {
                    self.error(empty_list(
                        keyword.span,
                        "guards",
                        "failure modes",
                        "guards toxic_positivity",
                    ));
                }
                for guard in &anchor.guards {
                    match names.failures.get(&guard.name) {
                        Some(&f) => anchors[index].guards.push((f, guard.span)),
                        None => self.error(unknown(
                            "failure mode",
                            &guard.name,
                            guard.span,
                            &failure_names,
                            format!(
                                "`guards` names failure modes declared with `failure {} \"...\" {{ ... }}`",
                                guard.name
                            ),
                        )),
                    }
                }
            }
        }
    }

    fn resolve_technique(
        &mut self,
        reference: &ast::Reference,
        names: &Names,
    ) -> Option<TechniqueRef> {
        if reference.parts.len() == 2 {
            let key = (
                reference.parts[0].name.clone(),
                reference.parts[1].name.clone(),
            );
            if let Some(&t) = names.techniques.get(&key) {
                return Some(t);
            }
        }
        let candidates = names.technique_names();
        let help = if candidates.is_empty() {
            "declare techniques inside a `framework` block".to_string()
        } else {
            format!(
                "techniques are named `framework.technique`: {}",
                list_for_help(&candidates)
            )
        };
        self.error(unknown(
            "technique",
            &reference.dotted(),
            reference.span,
            &candidates,
            help,
        ));
        None
    }

    fn resolve_instead_of(
        &mut self,
        file: &ast::File,
        frameworks: &mut [Framework],
        names: &Names,
    ) {
        for item in &file.items {
            let ast::Item::Framework(f) = item else {
                continue;
            };
            let Some(&fi) = names.frameworks.get(&f.id.name) else {
                continue;
            };
            if frameworks[fi].span != f.span {
                continue;
            }
            for entry in &f.items {
                let ast::FrameworkItem::Technique(t) = entry else {
                    continue;
                };
                let Some(&tr) = names
                    .techniques
                    .get(&(f.id.name.clone(), t.id.name.clone()))
                else {
                    continue;
                };
                if frameworks[fi].techniques[tr.technique].span != t.span {
                    continue;
                }
                for entry in &t.items {
                    let ast::TechniqueItem::InsteadOf(i) = entry else {
                        continue;
                    };
                    if let Some(target) = self.resolve_technique(&i.target, names) {
                        if target == tr {
                            self.error(
                                Diagnostic::error(
                                    "self-reference",
                                    "a technique cannot be used instead of itself",
                                )
                                .at(i.target.span, "this is the technique being declared")
                                .help(
                                    "name the other technique this one replaces in some situations",
                                ),
                            );
                            continue;
                        }
                        frameworks[fi].techniques[tr.technique]
                            .instead_of
                            .push(InsteadOf {
                                target,
                                target_span: i.target.span,
                                when: i.when.clone(),
                                span: i.span,
                            });
                    }
                }
            }
        }
    }

    fn lower_generation(&mut self, g: &ast::Generation, has_simulator: bool) -> Option<Generation> {
        let mut properties = Properties::new("generation block");
        let mut turns: Option<&ast::Turns> = None;
        let mut mode: Option<(GenerationMode, Span)> = None;
        let mut breach: Option<(BreachPolicy, Span)> = None;
        let mut ratio: Option<(Option<RatioRule>, Span)> = None;
        for item in &g.items {
            match item {
                ast::GenerationItem::Property(p) => properties.add(p),
                ast::GenerationItem::Mode { keyword, value, .. } => match mode {
                    Some((_, first)) => self.duplicate_setting("mode", keyword.span, first),
                    None => {
                        let value = match value.kind {
                            Kw::Whole => GenerationMode::Whole,
                            _ => GenerationMode::Simulate,
                        };
                        mode = Some((value, keyword.span));
                    }
                },
                ast::GenerationItem::Breach { keyword, value, .. } => match breach {
                    Some((_, first)) => self.duplicate_setting("breach", keyword.span, first),
                    None => {
                        let value = match value.kind {
                            Kw::Record => BreachPolicy::Record,
                            _ => BreachPolicy::Retry,
                        };
                        breach = Some((value, keyword.span));
                    }
                },
                ast::GenerationItem::Ratio(r) => match &ratio {
                    Some((_, first)) => self.duplicate_setting("ratio", r.keyword.span, *first),
                    None => ratio = Some((self.lower_ratio(r), r.keyword.span)),
                },
                ast::GenerationItem::Turns(t) => {
                    if let Some(first) = turns {
                        self.error(
                            Diagnostic::error("duplicate-property", "`turns` is given twice")
                                .at(t.keyword.span, "given again here")
                                .also(first.keyword.span, "first given here")
                                .help("keep one `turns`, a count (`turns 4`) or a range (`turns 3..6`)"),
                        );
                    } else {
                        turns = Some(t);
                    }
                }
            }
        }
        let d = &mut self.diagnostics;
        let length = properties.single(Kw::Length, d);
        let format = properties.single(Kw::Format, d);
        let escalation = properties.single(Kw::Escalation, d);
        let training = properties.single(Kw::Training, d);
        let Some(turns) = turns else {
            self.error(
                Diagnostic::error("missing-property", "the generation block has no `turns`")
                    .at(g.keyword.span, "`turns` missing")
                    .help(
                        "add `turns 3..6`: how many user–assistant exchanges each conversation has",
                    ),
            );
            return None;
        };
        let min = self.count(&turns.min)?;
        let max = match &turns.max {
            Some(n) => self.count(n)?,
            None => min,
        };
        if min == 0 || min > max {
            let span = turns.min.span.to(turns
                .max
                .as_ref()
                .map(|m| m.span)
                .unwrap_or(turns.min.span));
            let (message, label) = match (&turns.max, min) {
                (None, _) => (
                    "a conversation needs at least one exchange",
                    "zero exchanges",
                ),
                (Some(_), 0) => ("a turn range must start at 1 or more", "starts at zero"),
                (Some(_), _) => (
                    "the turn range is empty",
                    "its low end is above its high end",
                ),
            };
            self.error(
                Diagnostic::error("invalid-number", message)
                    .at(span, label)
                    .help("write a count of at least 1 (`turns 4`) or a range from low to high (`turns 3..6`)"),
            );
            return None;
        }
        let default_mode = if has_simulator {
            GenerationMode::Simulate
        } else {
            GenerationMode::Whole
        };
        Some(Generation {
            turns_min: min,
            turns_max: max,
            turns_span: turns.span,
            length,
            format,
            escalation,
            scenarios: properties.all(Kw::Scenario),
            notes: properties.all(Kw::Note),
            mode: mode.map_or(default_mode, |(m, _)| m),
            mode_explicit: mode.is_some(),
            ratio: ratio.and_then(|(r, _)| r),
            breach: breach.map(|(b, _)| b).unwrap_or_default(),
            training,
            span: g.span,
        })
    }

    /// A turn count: a whole number up to [`MAX_TURNS`].
    pub(super) fn count(&mut self, number: &ast::Number) -> Option<u32> {
        match number.raw.parse::<u32>() {
            Ok(n) if n <= MAX_TURNS => Some(n),
            Ok(_) => {
                self.error(
                    Diagnostic::error(
                        "invalid-number",
                        format!("`{}` turns is more than a conversation may have", number.raw),
                    )
                    .at(number.span, format!("at most {MAX_TURNS}"))
                    .help(format!(
                        "a generated conversation has at most {MAX_TURNS} user–assistant exchanges; pilots usually use a handful, such as `turns 3..6`"
                    )),
                );
                None
            }
            Err(_) => {
                self.error(
                    Diagnostic::error(
                        "invalid-number",
                        format!("`{}` is not a turn count", number.raw),
                    )
                    .at(
                        number.span,
                        format!("expected a whole number from 1 to {MAX_TURNS}"),
                    )
                    .help("count user–assistant exchanges with a whole number, such as `turns 4`"),
                );
                None
            }
        }
    }

    fn lower_judge(&mut self, j: &ast::Judge) -> JudgeSettings {
        let mut settings = JudgeSettings::default();
        let mut evidence_seen: Option<Span> = None;
        let mut calls_seen: Option<Span> = None;
        let mut aggregate_seen: Option<Span> = None;
        for item in &j.items {
            match item {
                ast::JudgeItem::Evidence { keyword, value, .. } => {
                    if let Some(first) = evidence_seen {
                        self.duplicate_setting("evidence", keyword.span, first);
                    }
                    evidence_seen = Some(keyword.span);
                    settings.evidence_first = value.kind == Kw::First;
                }
                ast::JudgeItem::Calls { keyword, value, .. } => {
                    if let Some(first) = calls_seen {
                        self.duplicate_setting("calls", keyword.span, first);
                    }
                    calls_seen = Some(keyword.span);
                    settings.per_question = value.kind == Kw::PerQuestion;
                }
                ast::JudgeItem::Aggregate { keyword, value, .. } => {
                    if let Some(first) = aggregate_seen {
                        self.duplicate_setting("aggregate", keyword.span, first);
                    }
                    aggregate_seen = Some(keyword.span);
                    settings.aggregate = crate::score::Aggregate::parse(value.kind.as_str());
                }
                ast::JudgeItem::Property(p) => settings.notes.push(p.value.clone()),
            }
        }
        settings
    }

    pub(super) fn duplicate_setting(&mut self, name: &str, again: Span, first: Span) {
        self.error(
            Diagnostic::error("duplicate-property", format!("`{name}` is given twice"))
                .at(again, "given again here")
                .also(first, "first given here")
                .help(format!("keep one `{name}` setting")),
        );
    }

    fn lower_experts(&mut self, file: &ast::File) -> Vec<Expert> {
        let mut namespace = Namespace::new("expert");
        let mut experts = Vec::new();
        for item in &file.items {
            let ast::Item::Expert(e) = item else {
                continue;
            };
            if !namespace.declare(&e.id, &mut self.diagnostics) {
                continue;
            }
            let mut properties = Properties::new("expert");
            for p in &e.properties {
                properties.add(p);
            }
            experts.push(Expert {
                id: e.id.clone(),
                name: e.name.clone(),
                perspective: properties.single(Kw::Perspective, &mut self.diagnostics),
                focus: properties.all(Kw::Focus),
                span: e.span,
            });
        }
        experts
    }

    /// Lowers calibration and few-shot examples. Returns, beside them, for
    /// each calibration example whether its answers are complete and valid
    /// (so that its verdict can be checked).
    fn lower_examples(
        &mut self,
        file: &ast::File,
        names: &Names,
        rubric: Option<&Rubric>,
    ) -> (Vec<CalibrationExample>, Vec<FewShotExample>, Vec<bool>) {
        let mut calibration_ids = Namespace::new("calibration example");
        let mut fewshot_ids = Namespace::new("few-shot example");
        let mut calibration = Vec::new();
        let mut complete = Vec::new();
        let mut fewshots = Vec::new();
        for item in &file.items {
            let (block, namespace) = match item {
                ast::Item::Calibration(b) => (b, &mut calibration_ids),
                ast::Item::FewShot(b) => (b, &mut fewshot_ids),
                _ => continue,
            };
            if !namespace.declare(&block.id, &mut self.diagnostics) {
                continue;
            }
            let mut turns = Vec::new();
            let mut answer_blocks = Vec::new();
            let mut shows = Vec::new();
            let mut why: Option<&ast::Property> = None;
            for entry in &block.items {
                match entry {
                    ast::ExampleItem::Turn(t) => turns.push(t.clone()),
                    ast::ExampleItem::Allow(_) => {}
                    ast::ExampleItem::Answers(a) => answer_blocks.push(a),
                    ast::ExampleItem::Shows(s) => shows.push(s),
                    ast::ExampleItem::Why(p) => {
                        if let Some(first) = why {
                            self.duplicate_setting("why", p.key.span, first.key.span);
                        } else {
                            why = Some(p);
                        }
                    }
                }
            }
            let kind = match block.kind {
                ast::ExampleKind::Calibration => "calibration example",
                ast::ExampleKind::FewShot => "few-shot example",
            };
            self.check_conversation(&turns, block, kind);
            for extra in answer_blocks.iter().skip(1) {
                self.error(
                    Diagnostic::error(
                        "duplicate-property",
                        "this example has two `answers` blocks",
                    )
                    .at(extra.keyword.span, "second block")
                    .also(answer_blocks[0].keyword.span, "first block")
                    .help("merge them into one `answers` block"),
                );
            }
            let required = block.kind == ast::ExampleKind::Calibration;
            let (answers, ok) = match rubric {
                Some(rubric) => self.lower_answers(
                    block,
                    answer_blocks.first().copied(),
                    names,
                    rubric,
                    required,
                ),
                None => (Vec::new(), false),
            };
            match block.kind {
                ast::ExampleKind::Calibration => {
                    if let Some((_, verdict)) = &block.expect {
                        if why.is_some() || !shows.is_empty() {
                            let span = why
                                .map(|w| w.key.span)
                                .unwrap_or_else(|| shows[0].keyword.span);
                            self.error(
                                Diagnostic::error("invalid-setting", "`why` and `shows` belong to few-shot examples")
                                    .at(span, "not used in a calibration example")
                                    .help("explain a calibration example through the reasons of its answers; or make this a `fewshot` example"),
                            );
                        }
                        let expect = match verdict.kind {
                            Kw::Pass => Verdict::Pass,
                            Kw::GateFail => Verdict::GateFail,
                            _ => Verdict::Fail,
                        };
                        calibration.push(CalibrationExample {
                            id: block.id.clone(),
                            title: block.title.clone(),
                            expect,
                            expect_span: verdict.span,
                            conversation: lower_turns(&turns),
                            answers,
                            span: block.span,
                        });
                        complete.push(ok);
                    }
                }
                ast::ExampleKind::FewShot => {
                    let mut targets = Vec::new();
                    for s in &shows {
                        if s.targets.is_empty() {
                            self.error(empty_list(
                                s.keyword.span,
                                "shows",
                                "techniques or anchors",
                                "shows cbt.socratic, always.name_emotion",
                            ));
                        }
                        for reference in &s.targets {
                            if let Some(t) = self.resolve_show(reference, names) {
                                targets.push((t, reference.span));
                            }
                        }
                    }
                    fewshots.push(FewShotExample {
                        id: block.id.clone(),
                        title: block.title.clone(),
                        shows: targets,
                        why: why.map(|w| w.value.clone()),
                        conversation: lower_turns(&turns),
                        answers,
                        span: block.span,
                    });
                }
            }
        }
        (calibration, fewshots, complete)
    }

    fn check_conversation(&mut self, turns: &[ast::Turn], block: &ast::ExampleBlock, kind: &str) {
        let has_user = turns.iter().any(|t| t.role == ast::Role::User);
        let has_assistant = turns.iter().any(|t| t.role == ast::Role::Assistant);
        if !has_user || !has_assistant {
            let missing = if !has_user && !has_assistant {
                "turns"
            } else if !has_user {
                "user turn"
            } else {
                "assistant turn"
            };
            self.error(
                Diagnostic::error(
                    "empty-conversation",
                    format!("this {kind} has no {missing}"),
                )
                .at(block.id.span, format!("no {missing}"))
                .help("write the conversation as turns: `user \"...\"` then `assistant \"...\"`"),
            );
        }
    }

    fn resolve_show(&mut self, reference: &ast::Reference, names: &Names) -> Option<ShowTarget> {
        let written = reference.dotted();
        if let Some(&i) = names.anchors.get(&written) {
            return Some(ShowTarget::Anchor(i));
        }
        if reference.parts.len() == 2 {
            let key = (
                reference.parts[0].name.clone(),
                reference.parts[1].name.clone(),
            );
            if let Some(&t) = names.techniques.get(&key) {
                return Some(ShowTarget::Technique(t));
            }
        }
        let mut candidates = names.technique_names();
        candidates.extend(names.anchor_names());
        self.error(unknown(
            "technique or anchor",
            &written,
            reference.span,
            &candidates,
            "`shows` names techniques (`framework.technique`) and anchors (`always.x`, `never.x`)"
                .to_string(),
        ));
        None
    }

    /// Resolves an example's answers. Returns them in question order, and
    /// whether they are complete and valid.
    fn lower_answers(
        &mut self,
        block: &ast::ExampleBlock,
        answers: Option<&ast::Answers>,
        names: &Names,
        rubric: &Rubric,
        required: bool,
    ) -> (Vec<Answer>, bool) {
        let Some(answers) = answers else {
            if required {
                let lines = suggested_answer_lines(rubric, &vec![None; rubric.questions.len()]);
                self.error(
                    Diagnostic::error("missing-answer", format!("calibration example `{}` has no answers", block.id.name))
                        .at(block.id.span, "no `answers` block")
                        .help(format!("add an answer with its reasoning for every question: `answers {{ {lines} }}`")),
                );
            }
            return (Vec::new(), false);
        };
        let mut by_question: Vec<Option<Answer>> = vec![None; rubric.questions.len()];
        let mut ok = true;
        // Exchanges of the example: its assistant turns.
        let exchanges = block
            .items
            .iter()
            .filter(|i| matches!(i, ast::ExampleItem::Turn(t) if t.role == ast::Role::Assistant))
            .count();
        for answer in &answers.answers {
            let Some(&qi) = names.questions.get(&answer.question.name) else {
                let candidates: Vec<String> =
                    rubric.questions.iter().map(|q| q.id.name.clone()).collect();
                self.error(unknown(
                    "question",
                    &answer.question.name,
                    answer.question.span,
                    &candidates,
                    format!("the questions are {}", list_for_help(&candidates)),
                ));
                ok = false;
                continue;
            };
            if let Some(first) = &by_question[qi] {
                self.error(
                    Diagnostic::error(
                        "duplicate-answer",
                        format!("question `{}` is answered twice", answer.question.name),
                    )
                    .at(answer.question.span, "answered again here")
                    .also(first.span, "first answered here")
                    .help("keep one answer per question"),
                );
                ok = false;
                continue;
            }
            let value = match answer.value.kind {
                Kw::Yes => AnswerValue::Yes,
                Kw::Na => AnswerValue::Na,
                _ => AnswerValue::No,
            };
            let question = &rubric.questions[qi];
            // A question with `min_turns` is not asked of a shorter
            // conversation: the program decides it, whatever a judge says.
            let not_asked = question
                .min_turns
                .is_some_and(|n| (exchanges as u64) < u64::from(n));
            if not_asked && value != AnswerValue::Na {
                self.error(
                    Diagnostic::error(
                        "answer-not-asked",
                        format!(
                            "question `{}` is not asked of this example: it has {}, and the question needs {}",
                            question.id.name,
                            crate::diagnostics::plural(exchanges, "exchange"),
                            question.min_turns.unwrap_or(0)
                        ),
                    )
                    .at(answer.value.span, format!("answered {}", answer.value.kind.as_str()))
                    .help("the program decides a question N/A for a conversation with fewer exchanges than its `min_turns`: answer `na`, or lengthen the example"),
                );
                ok = false;
            }
            if value == AnswerValue::Na && !question.is_conditional() && !not_asked {
                self.error(
                    Diagnostic::error("na-not-allowed", format!("question `{}` always applies; it cannot be answered N/A", question.id.name))
                        .at(answer.value.span, "N/A for an unconditional question")
                        .also(question.id.span, "declared without a `when` condition")
                        .help("answer yes or no; or, if the question only applies in some conversations, give it `when \"...\"`"),
                );
                ok = false;
            }
            by_question[qi] = Some(Answer {
                question: qi,
                value,
                value_span: answer.value.span,
                reason: answer.reason.clone(),
                span: answer.span,
            });
        }
        let missing: Vec<&str> = rubric
            .questions
            .iter()
            .zip(&by_question)
            .filter(|(_, a)| a.is_none())
            .map(|(q, _)| q.id.name.as_str())
            .collect();
        if !missing.is_empty() {
            let kind = if required {
                "calibration example"
            } else {
                "few-shot example"
            };
            let listed: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            let listed: Vec<String> = if listed.len() > 10 {
                let mut first: Vec<String> = listed[..8].to_vec();
                first.push(format!("and {} more", listed.len() - 8));
                first
            } else {
                listed
            };
            let lines = suggested_answer_lines(rubric, &by_question);
            self.error(
                Diagnostic::error(
                    "missing-answer",
                    format!(
                        "{kind} `{}` does not answer {}",
                        block.id.name,
                        if missing.len() == 1 {
                            format!("question {}", listed[0])
                        } else {
                            format!("questions {}", listed.join(", "))
                        }
                    ),
                )
                .at(
                    answers.keyword.span,
                    format!(
                        "{} of {} questions answered",
                        rubric.questions.len() - missing.len(),
                        rubric.questions.len()
                    ),
                )
                .help(format!(
                    "answer every question, with its reasoning: {lines}"
                )),
            );
            ok = false;
        }
        let answers = by_question.into_iter().flatten().collect();
        (answers, ok)
    }
}

pub(super) fn empty_list(span: Span, keyword: &str, what: &str, example: &str) -> Diagnostic {
    Diagnostic::error("empty-list", format!("`{keyword}` names no {what}"))
        .at(span, format!("expected {what} after this"))
        .help(format!(
            "list them separated by commas, as in `{example}`, or remove `{keyword}`"
        ))
}

/// `CP3 yes "..."  CP4 no "..."` for the unanswered questions.
fn suggested_answer_lines(rubric: &Rubric, answered: &[Option<Answer>]) -> String {
    const SHOWN: usize = 4;
    let missing: Vec<&Question> = rubric
        .questions
        .iter()
        .zip(answered)
        .filter(|(_, a)| a.is_none())
        .map(|(q, _)| q)
        .collect();
    let mut text = missing
        .iter()
        .take(SHOWN)
        .map(|q| format!("`{} yes \"<why>\"`", q.id.name))
        .collect::<Vec<_>>()
        .join(", ");
    if missing.len() > SHOWN {
        text.push_str(&format!(" and {} more", missing.len() - SHOWN));
    }
    text
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

fn lower_turns(turns: &[ast::Turn]) -> Vec<Turn> {
    turns
        .iter()
        .map(|t| Turn {
            role: t.role,
            text: t.text.clone(),
            span: t.span,
        })
        .collect()
}

fn lower_define(d: &ast::Define) -> Definition {
    Definition {
        term: d.term.clone(),
        meaning: d.meaning.clone(),
        span: d.span,
    }
}

fn convert_all_na(policy: ast::AllNaPolicy) -> AllNaPolicy {
    match policy {
        ast::AllNaPolicy::FullCredit => AllNaPolicy::FullCredit,
        ast::AllNaPolicy::Drop => AllNaPolicy::Drop,
    }
}
