package dev.pgbranch.pageserver.durability;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The crash test's checker must be able to fail: each kind of damage a crash could do to the
 * ledger is reported by {@link LedgerBook}, and a consistent ledger is not.
 */
class LedgerBookTest {

    @Test
    void aConsistentLedgerWithAnInDoubtIdEitherWayPasses() {
        LedgerBook book = book(1, 2, 3);
        book.sending(4);
        book.inDoubt(4);
        LedgerBook.Check check = book.verify(ledger(1, 2, 3, 4));
        assertEquals(List.of(), check.violations());
        assertEquals(1, check.inDoubtPresent());

        LedgerBook other = book(1, 2, 3);
        other.sending(4);
        other.inDoubt(4);
        LedgerBook.Check absent = other.verify(ledger(1, 2, 3));
        assertEquals(List.of(), absent.violations());
        assertEquals(1, absent.inDoubtAbsent());
    }

    @Test
    void anAcknowledgedIdMissingAfterRecoveryIsReportedLost() {
        List<String> violations = book(1, 2, 3).verify(ledger(1, 3)).violations();
        assertTrue(violations.contains("LOST: id 2 (ACKNOWLEDGED) is missing"), violations.toString());
        assertTrue(violations.stream().anyMatch(v -> v.startsWith("count(*) = 2, expected 3")), violations.toString());
    }

    @Test
    void anIdNoClientSentOrWhoseCommitWasNeverSentIsReported() {
        LedgerBook book = book(1, 2);
        book.sending(3);
        book.rolledBack(3);
        List<String> violations = book.verify(ledger(1, 2, 3, 9)).violations();
        assertTrue(violations.contains("id 3 is present, but its COMMIT was never sent"), violations.toString());
        assertTrue(violations.contains("id 9 is present but no client ever sent it"), violations.toString());
    }

    @Test
    void anInDoubtIdIsDecidedOnceAndMustStaySo() {
        LedgerBook book = book(1);
        book.sending(2);
        book.inDoubt(2);
        book.sending(3);
        book.inDoubt(3);
        assertEquals(List.of(), book.verify(ledger(1, 2)).violations());
        List<String> later = book.verify(ledger(1, 3)).violations();
        assertTrue(later.contains("LOST: id 2 (IN_DOUBT_PRESENT) is missing"), later.toString());
        assertTrue(later.contains("id 3 was absent after an earlier recovery and is present now"), later.toString());
    }

    @Test
    void aBalanceThatDisagreesWithTheLedgerOrARowWithWrongValuesIsReported() {
        LedgerBook.Snapshot good = ledger(1, 2);
        Map<Integer, Long> balances = new HashMap<>(good.balances());
        balances.merge(LedgerBook.accountOf(1), 1L, Long::sum);
        LedgerBook.Snapshot torn = new LedgerBook.Snapshot(good.rows(), balances, good.count(), good.sumAmount(),
                good.sumBalance() + 1);
        List<String> violations = book(1, 2).verify(torn).violations();
        assertTrue(violations.stream().anyMatch(v -> v.startsWith("account " + LedgerBook.accountOf(1))), violations.toString());
        assertTrue(violations.stream().anyMatch(v -> v.startsWith("sum(balance) = ")), violations.toString());

        Map<Long, long[]> rows = new HashMap<>(good.rows());
        rows.put(2L, new long[] {LedgerBook.accountOf(2), LedgerBook.amountOf(2) + 1});
        LedgerBook.Snapshot wrong = new LedgerBook.Snapshot(rows, good.balances(), 2, good.sumAmount(), good.sumBalance());
        List<String> more = book(1, 2).verify(wrong).violations();
        assertTrue(more.stream().anyMatch(v -> v.startsWith("id 2 reads (")), more.toString());
    }

    @Test
    void aBranchMissingATransactionCommittedBeforeItWasTakenIsReported() {
        LedgerBook book = book(1, 2, 3);
        assertEquals(List.of(), book.verifyBranchPoint(ledger(1, 2, 3), Set.of(1L, 2L)));
        List<String> violations = book.verifyBranchPoint(ledger(1), Set.of(1L, 2L));
        assertTrue(violations.contains("id 2, committed before the branch operation, is missing on the branch"),
                violations.toString());
    }

    private static LedgerBook book(long... acknowledged) {
        LedgerBook book = new LedgerBook();
        for (long id : acknowledged) {
            book.sending(id);
            book.acknowledged(id);
        }
        return book;
    }

    /** A ledger holding exactly {@code ids}, with balances and aggregates that agree with them. */
    private static LedgerBook.Snapshot ledger(long... ids) {
        Map<Long, long[]> rows = new HashMap<>();
        Map<Integer, Long> balances = new HashMap<>();
        for (int account = 0; account < LedgerBook.ACCOUNTS; account++) {
            balances.put(account, 0L);
        }
        long sum = 0;
        for (long id : ids) {
            rows.put(id, new long[] {LedgerBook.accountOf(id), LedgerBook.amountOf(id)});
            balances.merge(LedgerBook.accountOf(id), LedgerBook.amountOf(id), Long::sum);
            sum += LedgerBook.amountOf(id);
        }
        return new LedgerBook.Snapshot(rows, balances, ids.length, sum, sum);
    }
}
