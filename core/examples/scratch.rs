fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let request = framex_core::Request::from_json(&text).unwrap();
    let plan = framex_core::plan(&request).unwrap();
    println!("{}", serde_json::to_string_pretty(&plan).unwrap());
}
