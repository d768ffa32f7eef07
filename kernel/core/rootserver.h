#ifndef PITH_CORE_ROOTSERVER_H
#define PITH_CORE_ROOTSERVER_H

/* Builds init from the first boot module and gives it every free page. */
void rootserver_create(void);

#endif
