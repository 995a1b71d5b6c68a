"""``reconciler validate`` reports every error with file:line:column, against real files."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_files

BASE = {
    "reconciler.yaml": "workspace: demo\n",
    "system.yaml": """
        type: System
        name: shop
        ---
        type: Environment
        name: staging
        system: shop
        resourceSelector: resource.metadata["env"] == "staging"
        """,
    "resources.yaml": """
        type: Resource
        identifier: c1
        name: Cluster 1
        kind: KubernetesCluster
        version: v1
        metadata: {env: staging}
        """,
    "agents.yaml": """
        type: JobAgent
        name: local
        config: {type: command, command: [./deploy.sh]}
        """,
    "api.yaml": """
        type: Deployment
        name: api
        system: shop
        agent: {ref: local}
        """,
}


def errors_of(cli, root, *extra_files: tuple[str, str]):
    write_files(root, dict(extra_files))
    result = cli("validate", "-C", root, "--format", "json")
    return result.code, json.loads(result.out)


def summarize(diags):
    return [(d["path"], d["line"], d["column"], d["summary"]) for d in diags]


@pytest.fixture
def ws(tmp_path):
    write_files(tmp_path, BASE)
    return tmp_path


def test_valid_workspace_exits_zero(cli, ws):
    result = cli("validate", "-C", ws)
    assert result.code == 0, result.err
    assert "valid: 1 deployments" in result.out


def test_yaml_syntax_errors_in_every_document_are_reported(cli, ws):
    code, diags = errors_of(cli, ws, ("bad.yaml", "type: System\nname: [a\n---\ntype: System\nname: b: c\n"))
    assert code == 1
    assert summarize(diags) == [("bad.yaml", 3, 1, "YAML syntax error"), ("bad.yaml", 5, 8, "YAML syntax error")]


def test_unknown_and_missing_type(cli, ws):
    code, diags = errors_of(cli, ws, ("x.yaml", "type: Deploymnet\nname: a\n---\nname: b\n"))
    assert code == 1
    assert summarize(diags) == [("x.yaml", 1, 7, "Unknown document type"), ("x.yaml", 4, 1, "Missing document type")]
    assert "Did you mean 'Deployment'?" in diags[0]["detail"]


def test_missing_unknown_and_wrongly_typed_fields_all_reported(cli, ws):
    code, diags = errors_of(cli, ws, ("r.yaml", """
        type: Resource
        identifier: c2
        name: c2
        kind: Host
        metadata: {replicas: 3}
        confg: {}
        """))
    assert code == 1
    got = summarize(diags)
    assert ("r.yaml", 1, 1, "Missing field") in got  # version
    assert ("r.yaml", 5, 22, "Wrong type") in got  # the value 3 must be a string
    assert ("r.yaml", 6, 1, "Unknown field") in got
    unknown = next(d for d in diags if d["summary"] == "Unknown field")
    assert "Did you mean 'config'?" in unknown["detail"]


def test_duplicate_points_at_first_definition(cli, ws):
    code, diags = errors_of(cli, ws, ("zz-more.yaml", "type: Resource\nidentifier: c1\nname: again\nkind: K\nversion: v\n"))
    assert code == 1
    assert summarize(diags) == [("zz-more.yaml", 2, 13, "Duplicate resource")]
    assert "resources.yaml:1:1" in diags[0]["detail"]


def test_duplicate_deployment_name(cli, ws):
    code, diags = errors_of(cli, ws, ("api2.yaml", "type: Deployment\nname: api\nsystem: shop\n"))
    assert summarize(diags) == [("api2.yaml", 2, 7, "Duplicate deployment")]
    assert "api.yaml:1:1" in diags[0]["detail"]


def test_unknown_references(cli, ws):
    code, diags = errors_of(cli, ws, ("refs.yaml", """
        type: Environment
        name: prod
        system: shopp
        ---
        type: Deployment
        name: web
        system: shop
        agent: {ref: locl}
        ---
        type: Version
        deployment: wbe
        tag: v1
        """))
    assert code == 1
    got = summarize(diags)
    assert ("refs.yaml", 3, 9, "Unknown system") in got
    assert ("refs.yaml", 8, 14, "Unknown job agent") in got
    assert ("refs.yaml", 11, 13, "Unknown deployment") in got
    hints = " ".join(d["detail"] for d in diags)
    assert "Did you mean 'shop'?" in hints and "Did you mean 'local'?" in hints and "Did you mean 'web'?" in hints


def test_invalid_durations_rrules_and_timezones(cli, ws):
    code, diags = errors_of(cli, ws, ("policy.yaml", """
        type: Policy
        name: p
        rules:
          - gradualRollout: {timeScaleInterval: 5 minutes}
          - deploymentWindow: {rrule: "FREQ=SOMETIMES", duration: 1h, timezone: Mars/Olympus}
          - versionCooldown: {interval: -3}
          - approval: {required: 1}
        """))
    assert code == 1
    got = summarize(diags)
    assert ("policy.yaml", 4, 41, "Invalid duration") in got
    assert ("policy.yaml", 5, 31, "Invalid RRULE") in got
    assert ("policy.yaml", 5, 73, "Unknown timezone") in got
    assert ("policy.yaml", 6, 33, "Invalid duration") in got
    assert ("policy.yaml", 7, 5, "Unknown rule type") in got


def test_invalid_agent_config_is_reported_at_validate_time(cli, ws):
    code, diags = errors_of(cli, ws, ("agents.yaml", "type: JobAgent\nname: local\nconfig: {type: command, command: ./x}\n"))
    assert code == 1
    assert summarize(diags)[0][3] == "Invalid value"
    assert "list of arguments" in diags[0]["detail"]


def test_unknown_agent_type(cli, ws):
    code, diags = errors_of(cli, ws, ("agents.yaml", "type: JobAgent\nname: local\nconfig: {type: comand}\n"))
    assert summarize(diags) == [("agents.yaml", 3, 16, "Unknown agent type")]


def test_text_format_is_path_line_col_error(cli, ws):
    write_files(ws, {"x.yaml": "type: Systme\nname: a\n"})
    result = cli("validate", "-C", ws)
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("x.yaml:1:7: error: Unknown document type: ")
    assert "Traceback" not in result.err


def test_github_annotation_format(cli, ws):
    write_files(ws, {"x.yaml": "type: Systme\nname: a\n"})
    result = cli("validate", "-C", ws, "--format", "github")
    assert result.code == 1
    assert result.out.startswith("::error file=x.yaml,line=1,col=7,title=Unknown document type::")


def test_hidden_and_templates_folders_are_skipped(cli, ws):
    write_files(ws, {".github/workflows/ci.yml": "on: push\n", "templates/compose.yaml": "services: {}\n"})
    assert cli("validate", "-C", ws).code == 0


@pytest.mark.parametrize("args, message", [
    (["validate", "--nope"], "No such option"),
    (["validate", "-C", "/does/not/exist"], "does not exist"),
    (["frobnicate"], "No such command"),
])
def test_cli_mistakes_get_one_line_and_exit_2(cli, args, message):
    result = cli(*args)
    assert result.code == 2
    assert message in result.err and len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


def test_missing_config_file_is_a_cli_mistake(cli, tmp_path):
    result = cli("validate", "-C", tmp_path)
    assert result.code == 2 and "no reconciler.yaml" in result.err


def test_invalid_cel_points_into_the_expression(cli, ws):
    code, diags = errors_of(cli, ws, ("env.yaml", """
        type: Environment
        name: prod
        system: shop
        resourceSelector: resource.metadata["env"] == "prod" &&
        ---
        type: Environment
        name: qa
        system: shop
        resourceSelector: 'resourse.kind == "K"'
        """))
    assert code == 1
    got = summarize(diags)
    assert got[0][:2] == ("env.yaml", 4) and got[0][3] == "Invalid CEL"
    assert got[0][2] == 19 + len('resource.metadata["env"] == "prod" &&')  # just past the dangling &&
    assert ("env.yaml", 9, 20, "Invalid CEL") in got  # inside the quotes, at 'resourse'
    assert "unknown variable 'resourse'" in diags[1]["detail"]


def test_invalid_semver_range_in_a_version_selector(cli, ws):
    code, diags = errors_of(cli, ws, ("p.yaml", """
        type: Policy
        name: p
        rules:
          - versionSelector: {selector: 'semverSatisfies(version.tag, ">=1.2 <<2")'}
        """))
    assert code == 1
    (diag,) = diags
    assert diag["summary"] == "Invalid CEL" and diag["line"] == 4 and "range" in diag["detail"]


def test_a_document_with_a_bad_field_still_gets_its_references_checked(cli, tmp_path):
    write_files(tmp_path, {"reconciler.yaml": "workspace: all\n", "docs.yaml": """
        type: System
        name: s
        ---
        type: Environment
        name: prod
        system: nosys
        bogus: 1
        resourceSelector: 'resource.kind = "x"'
        ---
        type: Version
        deployment: ghost
        tag: v1
        status: weird
        """})
    result = cli("validate", "-C", tmp_path)
    assert result.code == 1
    found = [line.split(" error: ")[1].split(":")[0] for line in result.err.splitlines() if " error: " in line]
    assert found == ["Unknown system", "Unknown field", "Invalid CEL", "Unknown deployment", "Invalid value"]
    assert "5 errors found" in result.err


def test_verification_providers_need_their_settings(cli, tmp_path):
    write_files(tmp_path, {**BASE, "verify.yaml": """
        type: Policy
        name: verify
        rules:
          - verification:
              metrics:
                - name: db
                  provider: {type: tcp, host: db}
                  successCondition: "true"
                - name: web
                  provider: {type: http}
                  successCondition: "true"
                - name: ok
                  provider: {type: tcp, host: db, port: "{{ resource.config.port }}"}
                  successCondition: "true"
        """})
    result = cli("validate", "-C", tmp_path)
    assert result.code == 1
    assert "verify.yaml:7:21: error: Invalid value: metrics.0.provider: the tcp provider needs 'port'" in result.err
    assert "verify.yaml:10:21: error: Invalid value: metrics.1.provider: the http provider needs 'url'" in result.err
    assert "2 errors found" in result.err


def test_ctrlc_policy_shapes_load_unchanged():
    from reconciler.models.policy import Metric, VersionCooldown

    assert VersionCooldown.model_validate({"duration": "1h"}).interval == 3600
    metric = Metric.model_validate({"name": "m", "provider": {"type": "sleep"}, "count": 3,
                                    "success": {"condition": "result.ok", "threshold": 2},
                                    "failure": {"condition": "!result.ok", "threshold": 1}})
    assert (metric.successCondition, metric.successThreshold, metric.failureCondition, metric.failureThreshold) == (
        "result.ok", 2, "!result.ok", 1)


def test_a_url_in_a_flow_mapping_loads_as_ctrlc_writes_it(cli, tmp_path):
    write_files(tmp_path, {**BASE, "k8s.yaml": """
        type: Resource
        identifier: k8s-1
        name: K8s 1
        kind: KubernetesCluster
        version: v1
        config: {server: https://k8s.example.com}
        """})
    assert cli("validate", "-C", tmp_path).code == 0
    targets = cli("targets", "-C", tmp_path, "--format", "json")
    assert targets.code == 0


def test_validate_renders_every_job_config_template_and_reports_each_failure(cli, tmp_path):
    write_files(tmp_path, {**BASE, "api.yaml": """
        type: Deployment
        name: api
        system: shop
        agent:
          ref: local
          config:
            image: "api:{{ version.tag }}"
            other: "{{ nope }}"
            zone: "{{ resource.config.zone }}"
        """, "versions.yaml": "type: Version\ndeployment: api\ntag: v1\n"})
    result = cli("validate", "-C", tmp_path)
    assert result.code == 1
    assert "api.yaml:8:12: error: Template error: '{{ nope }}': undefined" in result.err
    assert "api.yaml:9:11: error: Template error: '{{ resource.config.zone }}'" in result.err
    assert "2 errors found" in result.err
    plan = cli("plan", "-C", tmp_path)
    assert plan.code == 1 and "2 errors found" in plan.err


def test_a_ctrlc_system_name_with_spaces_loads(cli, tmp_path):
    files = {k: v.replace("name: shop", "name: Tutorial Quickstart").replace("system: shop",
                                                                              "system: Tutorial Quickstart")
             for k, v in BASE.items()}
    write_files(tmp_path, files)
    result = cli("validate", "-C", tmp_path)
    assert result.code == 0, result.err
    write_files(tmp_path, {"system.yaml": files["system.yaml"].replace("Tutorial Quickstart", "a/b", 1)})
    assert "system.yaml" in cli("validate", "-C", tmp_path).err
