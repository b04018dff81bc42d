// include_dir! does not notice files added to the embedded theme, so tell
// cargo to rebuild whenever anything under themes/default changes.
fn main() {
    println!("cargo::rerun-if-changed=themes/default");
}
