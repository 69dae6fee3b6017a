#ifndef DATAPATH_LIST_H
#define DATAPATH_LIST_H 1

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Intrusive doubly linked list.  The node lives inside the element; a list
 * never allocates or frees elements.  An empty list points at itself. */
struct list {
    struct list *prev;
    struct list *next;
};

#define LIST_INITIALIZER(list) { (list), (list) }

static inline void
list_init(struct list *list)
{
    list->prev = list->next = list;
}

static inline bool
list_is_empty(const struct list *list)
{
    return list->next == list;
}

/* Inserts 'node' just before 'before'. */
static inline void
list_insert(struct list *before, struct list *node)
{
    node->prev = before->prev;
    node->next = before;
    before->prev->next = node;
    before->prev = node;
}

static inline void
list_push_back(struct list *list, struct list *node)
{
    list_insert(list, node);
}

static inline void
list_remove(struct list *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = node->next = node;
}

/* Moves 'node', which is on some list, to the back of 'list'. */
static inline void
list_move_back(struct list *list, struct list *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    list_insert(list, node);
}

static inline struct list *
list_front(const struct list *list)
{
    return list->next;
}

#define LIST_FOR_EACH(ITER, MEMBER, LIST)                                   \
    for (struct list *ITER##_node_ = (LIST)->next;                          \
         ITER##_node_ != (LIST)                                             \
         && ((ITER) = CONTAINER_OF(ITER##_node_, __typeof__(*(ITER)),       \
                                   MEMBER), 1);                             \
         ITER##_node_ = ITER##_node_->next)

/* Like LIST_FOR_EACH, but 'ITER' may be removed from the list in the body. */
#define LIST_FOR_EACH_SAFE(ITER, MEMBER, LIST)                              \
    for (struct list *ITER##_node_ = (LIST)->next,                          \
                     *ITER##_next_ = ITER##_node_->next;                    \
         ITER##_node_ != (LIST)                                             \
         && ((ITER) = CONTAINER_OF(ITER##_node_, __typeof__(*(ITER)),       \
                                   MEMBER), 1);                             \
         ITER##_node_ = ITER##_next_, ITER##_next_ = ITER##_node_->next)

#endif /* datapath/list.h */
