fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = ftprep::syntax::parse(&text);
    let file = ftprep::source::SourceFile::new(path, text);
    println!("{:#?}", parsed.file.items.len());
    print!("{}", ftprep::diagnostics::render::render_all(&parsed.diagnostics, &file, ftprep::diagnostics::render::RenderOptions::plain()));
}
