% Text
% Tomas is the father of Uma since May 1st, 2009. Sofia married Tomas on August 8th, 2018.
% By hand: Sofia is Uma's stepmother (§152(d)(2)(D)) from the wedding, August 8th, 2018, on:
% the relationship did not begin before the first day of 2018. (The clause table's span used
% to start a relationship on January 1st of its first year, and said it did.)

% Question
% Sofia bears a relationship to Uma under section 152(d)(2)(D) for the year 2018. Contradiction

% Facts
:- [statutes/prolog/init].
father_(tomas_father_of_uma).
agent_(tomas_father_of_uma,tomas).
patient_(tomas_father_of_uma,uma).
start_(tomas_father_of_uma,"2009-05-01").
marriage_(sofia_weds_tomas).
agent_(sofia_weds_tomas,sofia).
agent_(sofia_weds_tomas,tomas).
start_(sofia_weds_tomas,"2018-08-08").

% Test
:- \+ (s152_d_2_D(sofia,uma,Start_relationship,End_relationship),
    var(End_relationship),
    first_day_year(2018,First_day),
    is_before(Start_relationship,First_day)).
:- halt.
