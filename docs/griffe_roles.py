"""A griffe extension for the API reference: reST roles in docstrings become linked code.

aiotws's docstrings are Google style (``Args:``, ``Raises:``) but name other objects the
Sphinx way, ``:class:`~aiotws.session.ReconnectPolicy``` or ``:meth:`connect```, which
Markdown would show as they are. This turns each into inline code that links to the object's
entry in the reference when there is one (an *optional* autorefs link: no warning, just no
link, for an object the reference does not show). Relative names are looked up from the
documented object outwards (its class, then its module, then the package), as Sphinx does.

mkdocs.yml loads it by path (``extensions: [docs/griffe_roles.py]``); it is not a page.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|mod|data|exc|obj|const):`(~?)([^`<>]+)`")


def _lookup(package: griffe.Module, path: str) -> bool:
    """True when ``path`` (dotted, inside ``package``) names an object griffe loaded."""
    if path == package.path:
        return True
    prefix = package.path + "."
    if not path.startswith(prefix):
        return False
    try:
        package[path[len(prefix) :]]
    except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        return False
    return True


def _resolve(package: griffe.Module, obj: griffe.Object, target: str) -> str | None:
    """The full path ``target`` means in ``obj``'s docstring, or ``None``."""
    if _lookup(package, target):
        return target
    scope: griffe.Object | None = obj
    while scope is not None:
        candidate = f"{scope.path}.{target}"
        if _lookup(package, candidate):
            return candidate
        scope = scope.parent
    return None


def _rewrite(package: griffe.Module, obj: griffe.Object, text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        short, target = m[1] == "~", m[2].strip().removesuffix("()")
        title = target.rsplit(".", 1)[-1] if short else target
        code = f"<code>{html.escape(title)}</code>"
        path = _resolve(package, obj, target)
        if path is None:
            return code
        return f'<autoref identifier="{html.escape(path)}" optional>{code}</autoref>'

    return ROLE.sub(replace, text)


def _walk(package: griffe.Module, obj: griffe.Object, seen: set[str]) -> None:
    if obj.path in seen:
        return
    seen.add(obj.path)
    if obj.docstring is not None and ":" in obj.docstring.value:
        obj.docstring.value = _rewrite(package, obj, obj.docstring.value)
    for member in obj.members.values():
        if not member.is_alias:
            _walk(package, member, seen)  # type: ignore[arg-type]


class ReSTRoles(griffe.Extension):
    """Rewrites ``:role:`target``` in every docstring of the loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _walk(pkg, pkg, set())
