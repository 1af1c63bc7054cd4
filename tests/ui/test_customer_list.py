"""The customer search list: what it shows, and that a store change which leaves the
customers alone leaves the list (and the teller's place in it) alone."""

from __future__ import annotations

import pytest

from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.ui.customer_list import ID_ROLE, CustomerList
from sigverify_gui.ui.qt import Qt


@pytest.fixture
def customers(qtbot, store):
    with store.write() as db:
        records.insert_customer(db, "C001", "Chloé Martin")
        records.insert_customer(db, "C002", "Ångström Lee")
        records.insert_customer(db, "C003", "Bob Smith")
        records.set_customer_status(db, "C003", "closed")
    widget = CustomerList(store)
    qtbot.addWidget(widget)
    return widget


def test_rows_show_number_name_status_and_references(customers):
    proxy = customers.proxy
    labels = [proxy.index(r, 0).data() for r in range(proxy.rowCount())]
    assert labels == [
        "C001  —  Chloé Martin",
        "C002  —  Ångström Lee",
        "C003  —  Bob Smith  (closed)",
    ]
    assert proxy.index(0, 0).data(ID_ROLE) == "C001"
    assert proxy.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == "0 active reference signature(s)"
    assert customers.count_label.text() == "3 customer(s)"


def test_search_ignores_case_and_accents_and_select_skips_hidden_rows(customers):
    customers.search.setText("angstrom")
    assert customers.customer_ids() == ["C002"]
    assert customers.count_label.text() == "1 of 3 customer(s)"
    assert not customers.select("C001")  # hidden by the search
    assert customers.select("C002")
    assert customers.selected_customer() == "C002"
    assert not customers.select("C999")


def test_a_store_change_that_leaves_the_customers_alone_leaves_the_list_alone(
    qtbot, store, customers
):
    customers.select("C002")
    with store.write() as db:  # a verification's audit row: no customer changed
        audit.append(db, "verification", "ann", customer_id="C002", score=0.5)
    with (
        qtbot.assertNotEmitted(customers.model.modelReset),
        qtbot.assertNotEmitted(customers.customer_selected),
    ):
        customers.refresh()
    assert customers.selected_customer() == "C002"


def test_a_new_customer_is_shown_and_the_selection_kept(qtbot, store, customers):
    customers.select("C002")
    with store.write() as db:
        records.insert_customer(db, "C000", "Ann First")
    with (
        qtbot.waitSignal(customers.model.modelReset),
        qtbot.assertNotEmitted(customers.customer_selected),
    ):
        customers.refresh()
    assert customers.customer_ids() == ["C000", "C001", "C002", "C003"]
    assert customers.selected_customer() == "C002"


def test_a_removed_selected_customer_clears_the_selection(qtbot, store, customers):
    customers.select("C003")
    with store.write() as db:
        records.delete_customer(db, "C003")
    with qtbot.waitSignal(customers.customer_selected) as selected:
        customers.refresh()
    assert selected.args == [None]
    assert customers.total == 2


def test_customers_are_read_again_only_when_the_store_counter_moved(
    qtbot, store, customers, monkeypatch, tmp_path
):
    reads = []
    real = records.list_customers
    monkeypatch.setattr(records, "list_customers", lambda db: reads.append(1) or real(db))
    with store.write() as db:  # verifications and decisions: audit rows only
        audit.append(db, "verification", "ann", customer_id="C001", score=0.5)
        audit.append(db, "teller_decision", "ann", customer_id="C001", verification_id=1)
    customers.refresh()
    assert reads == []
    # another workstation adds a customer without references, through its own connection
    with Store(store.path) as other, other.write() as db:
        records.insert_customer(db, "C004", "Dana Wu")
    customers.refresh()
    assert reads == [1] and "C004" in customers.customer_ids()
    customers.refresh()
    assert reads == [1]
