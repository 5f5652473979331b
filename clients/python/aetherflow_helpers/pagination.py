"""Cursor pagination over any list operation of the generated client.

A list operation answers one page, `{data: [...], next_cursor}`. These call it
again with `cursor=next_cursor` until `next_cursor` is null:

    for workflow in paginate(workflows.list_workflows, limit=50):
        print(workflow.id)
"""


def pages(list_operation, **params):
    """Yields every page (the envelope the operation returns), first to last.

    `params` are the operation's own (`limit`, filters); `cursor=` starts from
    that cursor instead of the first page. An ApiException from any page is
    raised as it is.
    """
    cursor = params.pop("cursor", None)
    while True:
        page = list_operation(cursor=cursor, **params) if cursor is not None else list_operation(**params)
        yield page
        next_cursor = page.next_cursor
        if next_cursor is None:
            return
        # A cursor that does not move would loop for ever; the mock server does
        # this, answering every request with the same example page.
        if next_cursor == cursor:
            raise RuntimeError("the next_cursor of this page is the cursor that fetched it; stopping")
        cursor = next_cursor


def paginate(list_operation, **params):
    """Yields every item of every page, following `next_cursor`."""
    for page in pages(list_operation, **params):
        for item in page.data:
            yield item
