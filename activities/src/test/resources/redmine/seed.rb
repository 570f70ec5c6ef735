# Prepares a fresh copy of Debian's Redmine database for RedmineAdapterTest: REST API on, the
# admin's API key, a "Release Ready" status with workflow transitions, and an empty private project;
# the test makes its issues through the REST API.
# Prints "API_KEY=<key>" for the fixture.
Setting.rest_api_enabled = '1'
admin = User.find_by!(login: 'admin')
ready = IssueStatus.find_by(name: 'Release Ready') ||
        IssueStatus.create!(name: 'Release Ready', is_closed: false)
closed = IssueStatus.find_by!(name: 'Closed')
Role.all.each do |role|
  Tracker.all.each do |tracker|
    [[ready, closed], [closed, ready], [IssueStatus.find_by!(name: 'New'), ready]].each do |from, to|
      WorkflowTransition.find_or_create_by!(role_id: role.id, tracker_id: tracker.id,
                                            old_status_id: from.id, new_status_id: to.id)
    end
  end
end
Project.find_by(identifier: 'encode') ||
  Project.create!(name: 'ENCODE portal', identifier: 'encode', is_public: false,
                  tracker_ids: Tracker.pluck(:id), enabled_module_names: %w[issue_tracking])
puts "API_KEY=#{admin.api_key}"
