//! Local and deployed paths cannot drift: the routes API Gateway gets from
//! template.yaml, the routes `cargo lambda watch` gets from Cargo.toml, the
//! operations openapi.yaml documents, and the routes the code declares
//! (`auth::Endpoint`) are one and the same set.

use auth::Endpoint;
use serde_yaml_ng::Value as Yaml;
use std::collections::BTreeSet;

type Routes = BTreeSet<(String, String, String)>; // (method, path, function)

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn code_routes() -> Routes {
    Endpoint::ALL
        .into_iter()
        .map(|endpoint| {
            let (method, path) = endpoint.route();
            (method.into(), path.into(), endpoint.function_name().into())
        })
        .collect()
}

fn watch_routes() -> Routes {
    let manifest: toml::Table = repo_file("Cargo.toml").parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("a watch router in Cargo.toml");
    let mut routes = Routes::new();
    for (path, targets) in router {
        for target in targets.as_array().expect("routes list method and function") {
            routes.insert((
                target["method"].as_str().unwrap().to_owned(),
                path.clone(),
                target["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    routes
}

fn template_routes() -> Routes {
    let template: Yaml = serde_yaml_ng::from_str(&repo_file("template.yaml")).unwrap();
    let mut routes = Routes::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("every function names its binary");
        let events = resource["Properties"]["Events"].as_mapping();
        for (_, event) in events.into_iter().flatten() {
            if event["Type"].as_str() == Some("HttpApi") {
                routes.insert((
                    event["Properties"]["Method"].as_str().unwrap().to_owned(),
                    event["Properties"]["Path"].as_str().unwrap().to_owned(),
                    binary.to_owned(),
                ));
            }
        }
    }
    routes
}

/// The (method, path) of every operation in openapi.yaml.
fn openapi_routes() -> BTreeSet<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let spec: Yaml = serde_yaml_ng::from_str(&repo_file("openapi.yaml")).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("openapi.yaml has paths") {
        let path = path.as_str().expect("paths are strings");
        for (key, _) in item.as_mapping().expect("a path item is a mapping") {
            let key = key.as_str().expect("path item keys are strings");
            if METHODS.contains(&key) {
                let route = (key.to_ascii_uppercase(), path.to_owned());
                assert!(routes.insert(route), "{key} {path} twice in openapi.yaml");
            }
        }
    }
    routes
}

#[test]
fn openapi_documents_exactly_the_code_routes() {
    let code: BTreeSet<(String, String)> = code_routes()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect();
    assert_eq!(code.len(), Endpoint::ALL.len());
    assert_eq!(
        openapi_routes(),
        code,
        "openapi.yaml's operations differ from auth::Endpoint"
    );
}

#[test]
fn template_watch_router_and_code_declare_the_same_routes() {
    let code = code_routes();
    assert_eq!(code.len(), Endpoint::ALL.len());
    assert_eq!(
        template_routes(),
        code,
        "template.yaml differs from auth::Endpoint"
    );
    assert_eq!(
        watch_routes(),
        code,
        "Cargo.toml's watch router differs from auth::Endpoint"
    );
}

#[test]
fn every_routed_function_is_a_package_in_functions() {
    for (_, _, function) in code_routes() {
        let manifest = repo_file(&format!("functions/{function}/Cargo.toml"));
        assert!(
            manifest.contains(&format!("name = \"{function}\"")),
            "{function}"
        );
    }
}
