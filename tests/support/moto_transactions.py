"""Make moto's ``TransactWriteItems`` cost what DynamoDB's does: O(items), not O(table).

moto (5.x) backs up a transaction by deep-copying the whole table once per item of the
transaction, so a table of n items costs O(n) per transaction item and a test writing
1,000 audit entries (five items each) spends minutes in ``copy.deepcopy``. DynamoDB has no
such cost, and it hides what the audit log's own cost is.

``install()`` keeps moto's transaction code (conditions, cancellation reasons, unicity
checks) and replaces only the backup: during a transaction the table's deep copy is the
table itself, and every ``put_item`` / ``delete_item`` / ``update_item`` moto makes first
records the item it is about to change (an undo log). When moto cancels the transaction,
the log is replayed in reverse, restoring exactly the items the transaction touched —
the same end state as moto's full-table restore. Idempotent; affects the current process
(the moto server of tests/support/moto_server.py runs in it). Needs that server's
one-request-at-a-time mode: the patch is not safe with requests running in parallel.
"""

from __future__ import annotations

import copy
from typing import Any

_INSTALLED = False


def install() -> None:
    """Patch moto's DynamoDB backend once (see the module docstring)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.dynamodb.exceptions import (
        MockValidationException,
        MultipleTransactionsException,
        TransactionCanceledException,
    )
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items
    cls_put, cls_delete, cls_update = (DynamoDBBackend.put_item, DynamoDBBackend.delete_item,
                                       DynamoDBBackend.update_item)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []

        def remember(table_name: str, key: dict[str, Any]) -> None:
            before = self.get_item(table_name, key)
            undo.append((table_name, key,
                         None if before is None else copy.deepcopy(before.to_json()["Attributes"])))

        def key_of(table_name: str, attrs: dict[str, Any]) -> dict[str, Any]:
            table = self.get_table(table_name)
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
            return key

        def put_item(table_name: str, item_attrs: dict[str, Any], *a: Any, **kw: Any) -> Any:
            remember(table_name, key_of(table_name, item_attrs))
            return cls_put(self, table_name, item_attrs, *a, **kw)

        def delete_item(table_name: str, key: dict[str, Any], *a: Any, **kw: Any) -> Any:
            remember(table_name, key)
            return cls_delete(self, table_name, key, *a, **kw)

        def update_item(table_name: str, key: dict[str, Any], *a: Any, **kw: Any) -> Any:
            remember(table_name, key)
            return cls_update(self, table_name, key, *a, **kw)

        self.put_item, self.delete_item, self.update_item = put_item, delete_item, update_item
        Table.__deepcopy__ = lambda table, memo: table  # the "backup" is the live table
        try:
            return original(self, transact_items)
        except (TransactionCanceledException, MultipleTransactionsException, MockValidationException):
            for table_name, key, attrs in reversed(undo):
                if attrs is None:
                    if self.get_item(table_name, key) is not None:
                        cls_delete(self, table_name, key)
                else:
                    cls_put(self, table_name, attrs)
            raise
        finally:
            del Table.__deepcopy__
            del self.put_item, self.delete_item, self.update_item

    DynamoDBBackend.transact_write_items = transact_write_items
    _INSTALLED = True
