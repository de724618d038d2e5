"""`opp config get|set|add|remove`: opp.yaml by key, one commit each; refusals change nothing."""

import json

import pytest
import yaml

from oppcli.domain import settings_edit as keys
from oppcli.domain.settings import Settings
from oppcli.errors import NotFound, RuleError, UsageError


def settings_file(crm) -> dict:
    return yaml.safe_load((crm.root / "opp.yaml").read_text())


def last_commit(crm) -> tuple[str, str]:
    return (crm.git("log", "-1", "--format=%s").strip(),
            crm.git("show", "--name-only", "--format=", "HEAD").strip())


# ------------------------------------------------------------------ get


def test_get_every_kind_of_value(crm):
    assert crm("config", "get", "currency").stdout == "EUR\n"
    assert crm("config", "get", "default-stage").stdout == "prospecting\n"
    assert crm("config", "get", "modules.quotes").stdout == "true\n"
    assert crm("config", "get", "activity_types").stdout == "call\nvisit\nmeeting\nemail\ntask\n"
    assert crm("config", "get", "roles.partners").stdout.splitlines()[0] == "reseller"
    assert crm("config", "get", "stages.Proposal.probability").stdout == "50\n"
    assert crm("config", "get", "stages.proposal.position").stdout == "3\n"
    assert crm("config", "get", "stages.closed-won").stdout == (
        "id: closed-won\nlabel: Closed won\nprobability: 100\nkind: won\n")
    table = crm("config", "get", "stages").stdout
    assert "negotiation    Negotiation" in table and "kind" in table.splitlines()[0]
    assert yaml.safe_load(crm("config", "get").stdout) == settings_file(crm)


def test_get_as_json(crm):
    assert crm.json("config", "get") == json.loads(json.dumps(settings_file(crm)))
    assert crm.json("config", "get", "stages.negotiation") == {
        "id": "negotiation", "label": "Negotiation", "probability": 75, "kind": "open",
        "category": "commit"}
    assert crm.json("config", "get", "modules.catalog") is True
    assert crm.json("config", "get", "stages.proposal.probability") == 50
    assert crm.json("config", "get", "lost_reasons")[0] == "price"


def test_get_refuses_unknown_keys(crm):
    r = crm("config", "get", "colour", code=2)
    assert "unknown setting 'colour'" in r.stderr and "activity_types" in r.stderr
    r = crm("config", "get", "stages.proposal.colour", code=2)
    r = crm("config", "get", "modules.sales", code=2)
    r = crm("config", "get", "stages.demo", code=1)
    assert "unknown stage 'demo'" in r.stderr


# ------------------------------------------------------------------ set


@pytest.mark.parametrize("key, value, check, shown", [
    ("stages.proposal.probability", "40", lambda s: s["stages"][2]["probability"] == 40,
     "set stages.proposal.probability 50 -> 40"),
    ("stages.proposal.label", "Proposta", lambda s: s["stages"][2]["label"] == "Proposta",
     "set stages.proposal.label Proposal -> Proposta"),
    ("stages.Negotiation.position", "1", lambda s: s["stages"][0]["id"] == "negotiation",
     "set stages.negotiation.position 4 -> 1"),
    ("currency", "usd", lambda s: s["currency"] == "USD", "set currency EUR -> USD"),
    ("default_stage", "Qualification", lambda s: s["default_stage"] == "qualification",
     "set default_stage prospecting -> qualification"),
    ("modules.quotes", "off", lambda s: s["modules"]["quotes"] is False,
     "set modules.quotes true -> false"),
    ("stages.Proposal.category", "Commit", lambda s: s["stages"][2]["category"] == "commit",
     "set stages.proposal.category best_case -> commit"),
    ("stages.negotiation.category", "none", lambda s: "category" not in s["stages"][3],
     "set stages.negotiation.category commit -> none"),
])
def test_set_is_one_commit_of_opp_yaml(crm, key, value, check, shown):
    before = crm.commits()
    r = crm("config", "set", key, value)
    assert check(settings_file(crm))
    assert crm.commits() == before + 1 and crm.status() == ""
    assert last_commit(crm) == (f"settings: {shown}", "opp.yaml")
    assert "Opp-Action: config-set" in crm.git("log", "-1", "--format=%b")
    assert f"opp.yaml: {shown}" in r.stderr
    assert (crm.root / "opp.yaml").read_text().startswith("# yaml-language-server: $schema=")


def test_labels_in_the_team_language_work_everywhere(crm):
    crm("config", "set", "stages.proposal.label", "Proposta")
    opp_id = crm.new("Deal")
    crm("stage", opp_id, "proposta")
    assert crm.json("show", opp_id)["stage"] == "proposal"


def test_setting_the_same_value_changes_nothing(crm, unchanged):
    with unchanged:
        r = crm("config", "set", "stages.proposal.probability", "50")
    assert "nothing to change" in r.stderr


@pytest.mark.parametrize("args, code, words", [
    (("stages.proposal.probability", "150"), 2, "whole number from 0 to 100"),
    (("stages.proposal.probability", "forty"), 2, "whole number"),
    (("stages.proposal.kind", "maybe"), 2, "one of open, won, lost"),
    (("stages.proposal.label", "  "), 2, "one line of text"),
    (("stages.proposal.label", "Negotiation"), 1, "stage labels must be unique"),
    (("stages.closed-won.kind", "open"), 1, "at least one 'won' stage"),
    (("currency", "euro"), 2, "not an ISO 4217 currency code"),
    (("currency", "XXX"), 2, "currency 'XXX' is not an ISO 4217 currency code"),
    (("modules.catalog", "maybe"), 2, "true or false"),
    (("default_stage", "closed-won"), 1, "must be an open stage"),
    (("default_stage", "nope"), 1, "unknown stage 'nope'"),
    (("activity_types", "call"), 2, "opp config add"),
    (("stages", "x"), 2, "opp config add"),
    (("stages.proposal", "x"), 2, "one field at a time"),
    (("stages.proposal.position", "9"), 2, "from 1 to 6"),
    (("stages.proposal.category", "maybe"), 2,
     "one of pipeline, best_case, commit, omitted or none, not 'maybe'"),
    (("stages.closed-won.category", "commit"), 1,
     "stage 'closed-won' is won: its deals are closed, it has no forecast category"),
    (("nope", "x"), 2, "unknown setting"),
])
def test_set_refusals_change_nothing(crm, unchanged, args, code, words):
    with unchanged:
        r = crm("config", "set", *args, code=code)
    assert words in r.stderr


def test_set_refuses_what_would_break_opportunities(crm, unchanged):
    a = crm.new("A")
    crm("stage", a, "proposal")
    with unchanged:
        r = crm("config", "set", "stages.proposal.kind", "won", code=1)
    assert f"would break 1 opportunity ({a})" in r.stderr
    assert "a won opportunity needs its close date" in r.stderr
    # with a close date too: a deal closes by a command that dates it, never by a setting
    crm("set", a, "close-date", "2027-01-15")
    with unchanged:
        r = crm("config", "set", "stages.proposal.kind", "won", code=1)
    assert f"stage 'proposal' is where 1 opportunity ({a}) is; move it to another stage " \
        "first" in r.stderr
    # a won stage is certain, a lost one hopeless: pipeline and forecast agree
    for key, value, words in (
            ("stages.closed-won.probability", "50", "stage 'closed-won' is won: its "
                                                    "probability is 100 (reports count a won "
                                                    "deal whole), not 50"),
            ("stages.closed-lost.probability", "5", "is lost: its probability is 0")):
        with unchanged:
            r = crm("config", "set", key, value, code=1)
        assert words in r.stderr
    crm("config", "set", "stages.negotiation.kind", "won")  # no one there: fine
    assert settings_file(crm)["stages"][3]["kind"] == "won"
    assert settings_file(crm)["stages"][3]["probability"] == 100  # and certain
    crm("config", "set", "stages.negotiation.kind", "lost")
    assert settings_file(crm)["stages"][3]["probability"] == 0
    crm("config", "add", "stages", "signed", "--kind", "won")
    assert settings_file(crm)["stages"][-1] == {"id": "signed", "label": "Signed",
                                                "probability": 100, "kind": "won"}
    with unchanged:
        r = crm("config", "add", "stages", "gone", "--kind", "lost", "--probability", "10",
                code=1)
    assert "stage 'gone' is lost: its probability is 0" in r.stderr


def test_a_closed_stage_stored_otherwise_counts_whole_or_not_at_all(crm):
    """An opp.yaml edited by hand (or written before opp kept them in step) may give a
    won stage 90 %: it is read as it is, reports count the won deal whole, and
    'opp config set' puts it right."""
    a = crm.new("A", "--amount", "1000")
    crm("close", a, "--won", "--date", "2026-11-01")
    path = crm.root / "opp.yaml"
    path.write_text(path.read_text().replace("probability: 100", "probability: 90"))
    crm.git("-c", "user.name=h", "-c", "user.email=h@x", "commit", "-qam", "hand edit")
    rows = {r["stage"]: r for r in crm.json("pipeline")["rows"]}
    assert rows["closed-won"]["probability"] == 90 and rows["closed-won"]["weighted"] == "1000.00"
    assert crm.json("forecast")["totals"][0]["weighted"] == "1000.00"
    crm("config", "set", "stages.closed-won.probability", "100")
    assert settings_file(crm)["stages"][4]["probability"] == 100


def test_a_stage_turned_won_leaves_its_category(crm):
    crm("config", "set", "stages.proposal.kind", "won")
    stage = settings_file(crm)["stages"][2]
    assert (stage["kind"], stage["probability"], "category" in stage) == ("won", 100, False)
    assert crm("config", "get", "stages.proposal.category").stdout == "none\n"
    assert "category" in crm("config", "get", "stages").stdout.splitlines()[0]


def test_set_currency_notes_what_it_means_for_the_catalog(crm):
    r = crm("config", "set", "currency", "USD")
    assert "catalog's prices are now read as USD" in r.stderr


def test_config_refuses_uncommitted_hand_edits_of_opp_yaml(crm):
    path = crm.root / "opp.yaml"
    path.write_text(path.read_text().replace("- call\n", "- call\n- lunch\n"))
    head = crm.head()
    r = crm("config", "set", "stages.proposal.probability", "40", code=1)
    assert "opp.yaml has uncommitted changes" in r.stderr and crm.head() == head
    assert "lunch" in path.read_text()


# ------------------------------------------------------------------ add and remove


def test_add_and_remove_list_items(crm):
    crm("config", "add", "activity_types", "demo")
    assert settings_file(crm)["activity_types"][-1] == "demo"
    assert last_commit(crm) == ("settings: add activity_types demo", "opp.yaml")
    crm("config", "add", "roles.contacts", "sponsor")
    crm("config", "add", "lost-reasons", "too late")
    assert "too late" in crm("config", "get", "lost_reasons").stdout
    crm("config", "remove", "lost_reasons", "TIMING")
    assert "timing" not in settings_file(crm)["lost_reasons"]
    assert last_commit(crm) == ("settings: remove lost_reasons timing", "opp.yaml")
    assert "Opp-Action: config-remove" in crm.git("log", "-1", "--format=%b")


def test_add_a_stage_where_it_belongs(crm):
    crm("config", "add", "stages", "demo", "--probability", "35")
    ids = [s["id"] for s in settings_file(crm)["stages"]]
    assert ids == ["prospecting", "qualification", "proposal", "negotiation", "demo",
                   "closed-won", "closed-lost"]
    assert crm.json("config", "get", "stages.demo") == {"id": "demo", "label": "Demo",
                                                        "probability": 35, "kind": "open"}
    crm("config", "add", "stages", "on-hold", "--label", "On hold", "--probability", "5",
        "--after", "Qualification")
    crm("config", "add", "stages", "lead", "--probability", "1", "--before", "prospecting")
    crm("config", "add", "stages", "no-reply", "--probability", "0", "--kind", "lost")
    ids = [s["id"] for s in settings_file(crm)["stages"]]
    assert ids == ["lead", "prospecting", "qualification", "on-hold", "proposal", "negotiation",
                   "demo", "closed-won", "closed-lost", "no-reply"]
    assert last_commit(crm) == ("settings: add stages no-reply", "opp.yaml")
    opp_id = crm.new("Deal", "--stage", "On hold")
    assert crm.json("show", opp_id)["probability"] == 5


@pytest.mark.parametrize("args, code, words", [
    (("stages", "proposal", "--probability", "10"), 1, "already exists"),
    (("stages", "Demo Stage", "--probability", "10"), 2, "not a stage id"),
    (("stages", "demo"), 2, "needs its --probability"),
    (("stages", "demo", "--probability", "101"), 2, "from 0 to 100"),
    (("stages", "demo", "--probability", "1", "--label", "Proposal"), 1,
     "stage labels must be unique"),
    (("stages", "demo", "--probability", "1", "--after", "x"), 1, "unknown stage 'x'"),
    (("stages", "demo", "--probability", "1", "--after", "proposal", "--before", "proposal"), 2,
     "not both"),
    (("activity_types", "CALL"), 1, "'call' is already in activity_types"),
    (("activity_types", "demo", "--probability", "3"), 2, "are for adding a stage"),
    (("currency", "USD"), 2, "not a list"),
    (("roles.contacts", ""), 2, "one line of text"),
])
def test_add_refusals_change_nothing(crm, unchanged, args, code, words):
    with unchanged:
        r = crm("config", "add", *args, code=code)
    assert words in r.stderr


def test_remove_a_stage_no_one_uses(crm):
    crm("config", "remove", "stages", "Negotiation")
    assert "negotiation" not in [s["id"] for s in settings_file(crm)["stages"]]
    assert last_commit(crm) == ("settings: remove stages negotiation", "opp.yaml")


def test_remove_refuses_a_stage_in_use_the_default_or_the_last_of_a_kind(crm, unchanged):
    a, b = crm.new("A"), crm.new("B")
    crm("stage", a, "proposal")
    crm("stage", b, "proposal")
    with unchanged:
        r = crm("config", "remove", "stages", "proposal", code=1)
        assert "stage 'proposal' is where 2 opportunities" in r.stderr
        assert a in r.stderr and b in r.stderr and "opp stage ID STAGE" in r.stderr
        r = crm("config", "remove", "stages", "prospecting", code=1)
        assert "is the default_stage" in r.stderr
        r = crm("config", "remove", "stages", "closed-won", code=1)
        assert "at least one 'won' stage" in r.stderr
        r = crm("config", "remove", "stages", "nope", code=1)
        assert "unknown stage" in r.stderr
        r = crm("config", "remove", "activity_types", "lunch", code=1)
        assert "'lunch' is not in activity_types" in r.stderr
    crm("stage", a, "negotiation")
    crm("stage", b, "negotiation")
    crm("config", "remove", "stages", "proposal")
    crm("validate")


def test_a_change_ignores_problems_opportunities_already_had(crm):
    """A hand-broken opportunity does not block settings changes unrelated to it, and
    config can repair what a hand edit of opp.yaml broke."""
    a = crm.new("A")
    crm("stage", a, "proposal")
    path = crm.root / "opp.yaml"
    data = settings_file(crm)
    data["stages"] = [s for s in data["stages"] if s["id"] != "proposal"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    crm.git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "hand edit")
    crm("validate", code=1)
    crm("config", "add", "activity_types", "demo")
    crm("config", "add", "stages", "proposal", "--probability", "50", "--after", "qualification")
    crm("validate")


# ------------------------------------------------------------------ the pure functions


def test_keys_and_paths():
    s = Settings()
    assert keys.parse_key(s, "Stages.Closed won.Probability") == ("stages", "closed-won",
                                                                  "probability")
    assert keys.parse_key(s, "roles") == ("roles",)
    assert keys.get(s, ("roles", "competitors")) == ["incumbent", "challenger", "other"]
    assert "stages.proposal.kind" in keys.keys(s)
    assert keys.get(s, ("stages", "negotiation", "category")) == "commit"
    assert keys.get(s, ("stages", "closed-won", "category")) is None
    with pytest.raises(UsageError):
        keys.parse_key(s, "roles.contacts.x")
    with pytest.raises(NotFound):
        keys.parse_key(s, "stages.nope.label")


def test_changes_return_new_validated_settings():
    s = Settings()
    new = keys.set_value(s, ("stages", "proposal", "position"), "6")
    assert [st.id for st in new.stages][-1] == "proposal" and s.stages[2].id == "proposal"
    with pytest.raises(RuleError):
        keys.remove(s, ("stages",), "closed-lost")
    new, removed = keys.remove(s, ("roles", "contacts"), "Other")
    assert removed == "other" and "other" not in new.roles.contacts


@pytest.mark.parametrize("data", [
    {},
    {"currency": "USD", "locale": "it", "default_stage": "a", "activity_types": ["demo"],
     "lost_reasons": ["price"], "roles": {"contacts": ["buyer"]}, "modules": {"quotes": False},
     "stages": [{"id": "a", "label": "A", "probability": 5},
                {"id": "c", "label": "C", "probability": 60, "category": "commit"},
                {"id": "w", "label": "W", "probability": 100, "kind": "won"},
                {"id": "l", "label": "L", "probability": 0, "kind": "lost"}]},
])
def test_the_checked_file_gives_the_settings_its_data_gives(data):
    """``SettingsFile.value`` builds the settings from the fields: the same value as
    through pydantic's serializer, and the same data back."""
    from oppcli.domain.model import SettingsFile

    checked = SettingsFile.model_validate(data)
    assert checked.value() == Settings.from_data(checked.model_dump(mode="python"))
    assert checked.value().as_data() == checked.model_dump(mode="python")
