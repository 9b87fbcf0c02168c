# micropython.cmake: usocket as a MicroPython user C module (CMake-based
# ports). The port's own socket module must be off: both register `socket`.
# USOCKET_BACKEND: posix (default, the system's sockets) or lwip (lwIP's
# sockets API; the port puts lwIP's headers and lwipopts.h on the path).
add_library(usermod_usocket INTERFACE)

get_filename_component(USOCKET_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
if(NOT USOCKET_BACKEND)
    set(USOCKET_BACKEND posix)
endif()
file(GLOB USOCKET_CORE_SOURCES ${USOCKET_ROOT}/src/*.c
     ${USOCKET_ROOT}/src/${USOCKET_BACKEND}/*.c)
# Not the TLS stream: it needs an engine, and the port has its own tls.
list(REMOVE_ITEM USOCKET_CORE_SOURCES ${USOCKET_ROOT}/src/fault.c
     ${USOCKET_ROOT}/src/tls.c)

target_sources(usermod_usocket INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modusocket.c
    ${CMAKE_CURRENT_LIST_DIR}/usocket_addr.c
    ${CMAKE_CURRENT_LIST_DIR}/usocket_sock.c
    ${USOCKET_CORE_SOURCES}
)

target_include_directories(usermod_usocket INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}
    ${USOCKET_ROOT}/include
    ${USOCKET_ROOT}/src
)
if(USOCKET_BACKEND STREQUAL "lwip")
    target_compile_definitions(usermod_usocket INTERFACE US_BACKEND_LWIP)
endif()

target_link_libraries(usermod INTERFACE usermod_usocket)
