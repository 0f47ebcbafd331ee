// The controller framework and the scheduler are modules of their own (Package.swift); what
// uses the controllers (the server, its tests) sees them through this module as before.
@_exported import ControllerRuntime
@_exported import Scheduler
