package xen.store.tree;

import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One node, immutable: a change makes a new node (copy on write), which lets a transaction keep its
 * own view beside the live tree. {@code generation} is the store's change counter when the node was
 * last changed; a transaction's commit compares it (xenstored's conflict check, simplified).
 */
record Node(byte[] value, Perms perms, SortedSet<String> children, long generation) {
    static final SortedSet<String> NO_CHILDREN = Collections.unmodifiableSortedSet(new TreeSet<>());

    Node withValue(byte[] newValue, long gen) {
        return new Node(newValue, perms, children, gen);
    }

    Node withPerms(Perms newPerms, long gen) {
        return new Node(value, newPerms, children, gen);
    }

    Node withChild(String name, boolean present, long gen) {
        TreeSet<String> copy = new TreeSet<>(children);
        if (present) {
            copy.add(name);
        } else {
            copy.remove(name);
        }
        return new Node(value, perms, Collections.unmodifiableSortedSet(copy), gen);
    }
}
