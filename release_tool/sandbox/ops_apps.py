"""The GitHub App operations: the app itself, its installations (one per owner), and
installation access tokens. Every one of them needs the app's JWT (access level "app")."""

from __future__ import annotations

from collections.abc import Sequence

from release_tool.sandbox import apps as gh_apps
from release_tool.sandbox.access import Token
from release_tool.sandbox.rest import (
    ApiError,
    Operations,
    Request,
    Response,
    field,
    not_found,
    page,
    route,
)
from release_tool.sandbox.shapes import Json


class AppOps(Operations):
    """GitHub App endpoints."""

    apps: Sequence[gh_apps.App] = ()  # set by the Sandbox

    def _app(self, req: Request) -> gh_apps.App:
        found = next((a for a in self.apps if a.id == req.app), None)
        if found is None:  # the JWT was checked against these very apps
            raise ApiError(401, "A JSON web token could not be decoded")
        return found

    def _accounts(self) -> list[str]:
        """The owners the app is installed on: every owner with a repository."""
        owners: dict[str, str] = {}
        for full_name in self.store.repositories():
            owner = full_name.split("/", 1)[0]
            owners.setdefault(owner.lower(), owner)
        return sorted(owners.values())

    def _installation_id(self, app: gh_apps.App, account: str) -> int:
        return self.state.user_id(f"installation:{app.id}:{account.lower()}")

    def _installation_json(self, app: gh_apps.App, account: str) -> Json:
        installation_id = self._installation_id(app, account)
        api = self.urls.api
        created = self.state.repo(
            next(
                r for r in self.store.repositories() if r.lower().startswith(account.lower() + "/")
            )
        ).created_at
        return {
            "id": installation_id,
            "account": self.user_json(account),
            "repository_selection": "all",
            "access_tokens_url": f"{api}/app/installations/{installation_id}/access_tokens",
            "repositories_url": f"{api}/installation/repositories",
            "html_url": f"{self.urls.base}/settings/installations/{installation_id}",
            "app_id": app.id,
            "app_slug": app.slug,
            "client_id": f"Iv1.sandbox{app.id}",
            "target_id": self.user_json(account)["id"],
            "target_type": self.user_json(account)["type"],
            "permissions": dict(app.permissions),
            "events": [],
            "created_at": created,
            "updated_at": created,
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
            "contact_email": None,
        }

    def _account_of(self, app: gh_apps.App, installation_id: str) -> str:
        for account in self._accounts():
            if str(self._installation_id(app, account)) == installation_id:
                return account
        raise not_found()

    @route("GET", "/app", "app", "apps/apps#get-the-authenticated-app")
    def get_app(self, req: Request) -> Response:
        app = self._app(req)
        return Response(
            200,
            {
                "id": app.id,
                "slug": app.slug,
                "node_id": f"A_sandbox{app.id}",
                "client_id": f"Iv1.sandbox{app.id}",
                "owner": None,
                "name": app.slug,
                "description": "A GitHub App of the release-tool sandbox",
                "external_url": self.urls.base,
                "html_url": f"{self.urls.base}/apps/{app.slug}",
                "created_at": "2020-01-01T00:00:00Z",
                "updated_at": "2020-01-01T00:00:00Z",
                "permissions": dict(app.permissions),
                "events": [],
                "installations_count": len(self._accounts()),
            },
        )

    @route(
        "GET", "/app/installations", "app", "apps/apps#list-installations-for-the-authenticated-app"
    )
    def list_installations(self, req: Request) -> Response:
        app = self._app(req)
        return page(req, [self._installation_json(app, a) for a in self._accounts()], self.urls)

    @route(
        "GET",
        "/app/installations/{installation_id}",
        "app",
        "apps/apps#get-an-installation-for-the-authenticated-app",
    )
    def get_installation(self, req: Request, installation_id: str) -> Response:
        app = self._app(req)
        return Response(200, self._installation_json(app, self._account_of(app, installation_id)))

    @route(
        "GET",
        "/repos/{owner}/{repo}/installation",
        "app",
        "apps/apps#get-a-repository-installation-for-the-authenticated-app",
    )
    def get_repo_installation(self, req: Request, owner: str, repo: str) -> Response:
        return Response(200, self._installation_json(self._app(req), owner))

    @route(
        "POST",
        "/app/installations/{installation_id}/access_tokens",
        "app",
        "apps/apps#create-an-installation-access-token-for-an-app",
    )
    def create_installation_token(self, req: Request, installation_id: str) -> Response:
        app = self._app(req)
        account = self._account_of(app, installation_id)
        body = req.obj()
        wanted = field(body, "permissions", dict) or {}
        for name, level in wanted.items():
            granted = app.permissions.get(name)
            if granted is None or (level == "write" and granted != "write"):
                raise ApiError(
                    422,
                    "The permissions requested are not granted to this installation.",
                )
        permissions = dict(wanted) if wanted else dict(app.permissions)
        names = field(body, "repositories", list)
        repositories = None
        listed: list[Json] = []
        if names is not None:
            full_names = [f"{account}/{n}" for n in names if isinstance(n, str)]
            found = [self.store.canonical(f) for f in full_names]
            if len(found) != len(names) or None in found:
                raise ApiError(
                    422,
                    "There is at least one repository that does not exist or is not "
                    "accessible to the parent installation.",
                )
            repositories = frozenset(f.lower() for f in found if f)
            listed = [self.repo_json(req, f, nested=True) for f in found if f]
        secret = gh_apps.new_token()
        self.access.add_token(
            secret,
            Token(
                app.bot,
                "installation",
                repositories,
                workflow=permissions.get("workflows") == "write",
                account=account,
            ),
        )
        answer: Json = {
            "token": secret,
            "expires_at": gh_apps.expires_at(),
            "permissions": permissions,
            "repository_selection": "all" if repositories is None else "selected",
        }
        if repositories is not None:
            answer["repositories"] = listed
        return Response(201, answer)
