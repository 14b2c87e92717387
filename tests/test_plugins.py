"""Plugin discovery, isolation of broken plugins, name clashes and lookups."""

from __future__ import annotations

import importlib
import sys
import textwrap
import warnings

import pytest

from htrkit.errors import OptionsError, PluginError, UnknownComponentError
from htrkit.plugins import DEFAULT_PLUGINS, HOOKS, PluginManager, PluginWarning

GOOD_PLUGIN = """
from dataclasses import dataclass
import htrkit
from htrkit.specs import DecoderSpec

@dataclass(frozen=True)
class Opts:
    scale: int = 1

class Shout:
    def __init__(self, options):
        self.options = options
    def decode(self, log_probs, alphabet):
        return htrkit.Decoding("HELLO" * self.options.scale, 1.0, [])

@htrkit.hookimpl
def htrkit_register_decoders():
    return [DecoderSpec("shout", Shout, "always says hello", options=Opts, aliases=("yell",))]
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fake site directory: ``install(dist, plugin_name, module, code)`` adds a package
    with a ``.dist-info`` and an ``htrkit`` entry point, as pip would."""
    monkeypatch.syspath_prepend(str(tmp_path))
    added = []

    def install(dist: str, name: str, module: str, code: str, version: str = "1.0") -> None:
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(code))
        info = tmp_path / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[htrkit]\n{name} = {module}\n")
        added.append(module)
        importlib.invalidate_caches()

    monkeypatch.delenv("HTRKIT_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("HTRKIT_STRICT_PLUGINS", raising=False)
    yield install
    for module in added:
        sys.modules.pop(module, None)


def test_builtins_come_through_the_hooks():
    manager = PluginManager(entry_points=False)
    names = {info.name for info in manager.plugins()}
    assert names == {m.rsplit(".", 1)[1] for m in DEFAULT_PLUGINS}
    for kind, hook in HOOKS.items():
        impls = getattr(manager.pm.hook, hook).get_hookimpls()
        registered = set(manager.registry(kind).names())
        from_hooks = {s.name for impl in impls for s in impl.function()}
        assert registered == from_hooks
    entry = manager.registry("decoder").entry("beam")
    assert entry.plugin == "decoders" and "(built-in)" in entry.provider


def test_third_party_plugin_is_discovered(site):
    site("htrkit-shout", "shout", "htrkit_shout_mod", GOOD_PLUGIN)
    manager = PluginManager()
    entry = manager.registry("decoder").entry("yell")
    assert entry.spec.name == "shout"
    assert entry.provider == "htrkit-shout 1.0 (plugin 'shout')"
    decoder = manager.registry("decoder").create("shout", {"scale": "2"})
    assert decoder.decode(None, None).text == "HELLOHELLO"
    info = next(i for i in manager.plugins() if i.name == "shout")
    assert info.distribution == "htrkit-shout" and info.components == {"decoder": ["shout"]}


def test_broken_plugin_warns_and_the_rest_works(site):
    site("htrkit-broken", "broken", "htrkit_broken_mod", "import not_a_module_anywhere\n", "2.3")
    site("htrkit-shout", "shout", "htrkit_shout_mod", GOOD_PLUGIN)
    with pytest.warns(PluginWarning) as caught:
        manager = PluginManager()
    message = str(caught[0].message)
    assert "htrkit-broken 2.3" in message and "not_a_module_anywhere" in message
    assert "ModuleNotFoundError" in message
    assert "shout" in manager.registry("decoder")
    assert "beam" in manager.registry("decoder")
    failed = next(i for i in manager.plugins() if i.name == "broken")
    assert failed.error and "not_a_module_anywhere" in failed.error


def test_strict_mode_makes_a_broken_plugin_an_error(site, monkeypatch):
    site("htrkit-broken", "broken", "htrkit_broken_mod", "raise RuntimeError('boom')\n")
    monkeypatch.setenv("HTRKIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"htrkit-broken 1.0.*RuntimeError: boom"):
        PluginManager()


def test_misspelled_hook_is_reported(site):
    code = """
    import htrkit
    @htrkit.hookimpl
    def htrkit_register_decoder():
        return []
    """
    site("htrkit-typo", "typo", "htrkit_typo_mod", code)
    with pytest.warns(PluginWarning, match=r"htrkit-typo.*htrkit_register_decoder"):
        manager = PluginManager()
    assert not manager.pm.has_plugin("typo")


@pytest.mark.parametrize(
    "body, needle",
    [
        ("raise ValueError('bad registry')", "ValueError: bad registry"),
        ("return ['not a spec']", "expected DecoderSpec"),
    ],
)
def test_failing_registration_hook_is_isolated(site, body, needle):
    code = f"""
    import htrkit
    @htrkit.hookimpl
    def htrkit_register_decoders():
        {body}
    """
    site("htrkit-bad", "bad", "htrkit_bad_mod", code)
    manager = PluginManager()
    with pytest.warns(PluginWarning, match=needle):
        names = manager.registry("decoder").names()
    assert names == ["beam", "greedy", "kenlm", "pattern", "wordbeam"]


def test_duplicate_name_names_both_providers(site):
    clash = GOOD_PLUGIN.replace('"shout", Shout', '"beam", Shout').replace('("yell",)', "()")
    site("htrkit-clash", "clash", "htrkit_clash_mod", clash)
    registry = PluginManager().registry("decoder")
    with pytest.raises(PluginError) as err:
        registry.get("beam")
    message = str(err.value)
    assert "'beam'" in message
    assert "htrkit-clash 1.0 (plugin 'clash')" in message and "(built-in)" in message
    # a name nobody else registers still works: installing it broke no other pipeline
    assert registry.get("greedy").name == "greedy" and "beam" not in registry


def test_alias_clash_is_also_an_error(site):
    clash = GOOD_PLUGIN.replace('("yell",)', '("greedy",)')
    site("htrkit-clash", "clash", "htrkit_clash_mod", clash)
    registry = PluginManager().registry("decoder")
    with pytest.raises(PluginError, match="'greedy' is registered twice"):
        registry.get("greedy")
    assert registry.get("beam").name == "beam"


def test_load_plugins_env_selects_plugins(site, monkeypatch):
    site("htrkit-shout", "shout", "htrkit_shout_mod", GOOD_PLUGIN)
    monkeypatch.setenv("HTRKIT_LOAD_PLUGINS", "")
    assert "shout" not in PluginManager().registry("decoder")
    monkeypatch.setenv("HTRKIT_LOAD_PLUGINS", "shout")
    assert "shout" in PluginManager().registry("decoder")


def test_unknown_name_suggests_and_lists():
    registry = PluginManager(entry_points=False).registry("decoder")
    with pytest.raises(UnknownComponentError) as err:
        registry.get("beem")
    assert str(err.value) == (
        "unknown decoder 'beem'; did you mean 'beam'? "
        "available: beam, greedy, kenlm, pattern, wordbeam"
    )
    with pytest.raises(UnknownComponentError, match=r"^unknown decoder 'zzz'; available: beam"):
        registry.get("zzz")


def test_a_suggested_alias_names_the_component_it_stands_for():
    registry = PluginManager(entry_points=False).registry("segmenter")
    with pytest.raises(UnknownComponentError) as err:
        registry.get("nope")
    assert "did you mean 'none' (another name of 'whole')? available: " in str(err.value)


def test_options_are_validated_at_creation():
    registry = PluginManager(entry_points=False).registry("decoder")
    with pytest.raises(OptionsError, match="did you mean 'beam_width'"):
        registry.create("beam", {"beam_widht": 3})
    with pytest.raises(OptionsError, match="must be >= 1"):
        registry.create("beam", {"beam_width": 0})
    assert registry.create("beam", {"beam_width": "7"}).options.beam_width == 7


def test_registration_records_are_checked():
    from htrkit.specs import DecoderSpec

    with pytest.raises(PluginError, match="invalid decoder name"):
        DecoderSpec("Has Space", lambda o: None)
    with pytest.raises(PluginError, match="options must be a dataclass"):
        DecoderSpec("ok", lambda o: None, options=dict)
    spec = DecoderSpec("ok", lambda o: None)
    with pytest.raises(AttributeError):
        spec.name = "changed"  # frozen


LAZY_PLUGIN = """
import htrkit
from htrkit.specs import DecoderSpec

@htrkit.hookimpl
def htrkit_register_decoders():
    return [
        DecoderSpec("lazy", "htrkit_lazy_impl:Shout", "built from an import string"),
        DecoderSpec("gone", "htrkit_lazy_nowhere:Shout", "its module is not installed"),
    ]
"""

LAZY_IMPL = """
import htrkit

class Shout:
    def __init__(self, options):
        self.options = options
    def decode(self, log_probs, alphabet):
        return htrkit.Decoding("LAZY", 1.0, [])
"""


def test_import_string_factory_is_imported_on_first_use(site, tmp_path):
    site("htrkit-lazy", "lazy", "htrkit_lazy_mod", LAZY_PLUGIN)
    (tmp_path / "htrkit_lazy_impl.py").write_text(textwrap.dedent(LAZY_IMPL))
    sys.modules.pop("htrkit_lazy_impl", None)
    manager = PluginManager()
    registry = manager.registry("decoder")
    assert "lazy" in registry and "htrkit_lazy_impl" not in sys.modules
    assert registry.create("lazy").decode(None, None).text == "LAZY"
    assert "htrkit_lazy_impl" in sys.modules
    sys.modules.pop("htrkit_lazy_impl")
    with pytest.raises(PluginError) as info:
        registry.create("gone")
    message = str(info.value)
    assert message.startswith("decoder 'gone': cannot import its factory")
    assert "htrkit_lazy_nowhere" in message and "\n" not in message


@pytest.mark.parametrize("factory", ["no_colon", "a.b:", ":Name", "a b:c", "a:b c"])
def test_malformed_import_string_is_refused_at_registration(factory):
    from htrkit.specs import DecoderSpec

    with pytest.raises(PluginError, match="is not an import string"):
        DecoderSpec("ok", factory)


def test_builtins_are_records_with_import_strings():
    """The built-in plugins are their records, as a third-party package's can be: every
    factory is an import string (no shim functions), and each one resolves."""
    from htrkit.specs import SPEC_TYPES

    manager = PluginManager(entry_points=False)
    for kind in SPEC_TYPES:
        for spec in manager.registry(kind):
            if kind == "model":  # a bundled file's path, not code
                continue
            assert isinstance(spec.factory, str), (kind, spec.name, spec.factory)
            assert callable(spec.load()), (kind, spec.name)


def test_warnings_do_not_repeat_for_healthy_setups():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        manager = PluginManager()
        for kind in HOOKS:
            manager.registry(kind)


def test_model_plugin_makes_a_name_usable(site, model_path, line_png):
    code = f"""
    import htrkit
    from htrkit.specs import ModelSpec

    @htrkit.hookimpl
    def htrkit_register_models():
        return [ModelSpec("tiny-random", lambda options: {str(model_path)!r}, "random weights")]
    """
    site("htrkit-tiny", "tiny", "htrkit_tiny_mod", code)
    from htrkit import Pipeline
    from htrkit.plugins import reset_plugin_manager

    reset_plugin_manager()
    by_name = Pipeline(model="tiny-random")
    assert by_name.recognizer.source == str(model_path)
    assert by_name(line_png).text == Pipeline(model=model_path)(line_png).text
    known = "neither a model file nor a known model; models: accurate, default, digits, tiny-random"
    with pytest.raises(Exception, match=known):
        Pipeline(model="tiny-randm")


def test_a_clashing_plugin_is_flagged_in_the_listing(site):
    clash = GOOD_PLUGIN.replace('"shout", Shout', '"beam", Shout').replace('("yell",)', "()")
    site("htrkit-clash", "clash", "htrkit_clash_mod", clash)
    manager = PluginManager()
    listed = {info.name: info for info in manager.plugins()}
    assert "decoder name 'beam' is registered twice" in (listed["clash"].error or "")
    assert listed["clash"].to_dict()["error"] == listed["clash"].error
    assert all(info.error is None for info in listed.values() if info.builtin)
