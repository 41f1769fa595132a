"""The web app's ``Jinja2Templates`` (fastapi.templating), built on the one environment of
service/pages, so that routes answer ``templates.TemplateResponse(request, name, values)``
with the same templates the batch writes to its folders."""

from __future__ import annotations

from fastapi.templating import Jinja2Templates

from service.pages import ENV

templates = Jinja2Templates(env=ENV)
