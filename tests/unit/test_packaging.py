"""Package data is declared on the package that holds it: a pattern reaching into a
subdirectory (`"services.api" = ["static/*"]`) made setuptools warn at every install that
`services.api.static` is importable but absent from `packages`."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_package_data_is_declared_on_listed_packages_without_reaching_into_subdirectories():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    for package, patterns in config["package-data"].items():
        assert package in listed, package
        assert (ROOT / package.replace(".", "/")).is_dir(), package
        assert not [p for p in patterns if "/" in p], (package, patterns)
    shipped = {p for p in listed if p.startswith("services.api.static")}
    assert shipped == {"services.api.static", "services.api.static.docs"}
