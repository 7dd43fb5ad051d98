% Text
% Rosa has been enrolled at Oberlin College and attending classes there since September 1st,
% 2017 (until May 31st, 2021). Theo married Rosa on July 9th, 2016. Theo worked at the college library from February 5th to
% June 15th, 2018, and the college paid him $4100 for it on June 15th, 2018.
% By hand: Theo's service for the college is in the employ of a college by the spouse of a student
% enrolled and regularly attending classes there (§3306(c)(10)(A)(ii)). The question names the
% student first; the facts make Theo the employee and Rosa his wife.

% Question
% Section 3306(c)(10)(A)(ii) applies to Theo's work for Oberlin College, Rosa being the student, on March 1st, 2018. Entailment

% Facts
:- [statutes/prolog/init].
educational_institution_(oberlin_is_a_college).
agent_(oberlin_is_a_college,"oberlin college").
service_(theo_works_at_library).
patient_(theo_works_at_library,"oberlin college").
agent_(theo_works_at_library,theo).
start_(theo_works_at_library,"2018-02-05").
end_(theo_works_at_library,"2018-06-15").
payment_(theo_library_pay).
agent_(theo_library_pay,"oberlin college").
patient_(theo_library_pay,theo).
start_(theo_library_pay,"2018-06-15").
purpose_(theo_library_pay,theo_works_at_library).
amount_(theo_library_pay,4100).
enrollment_(rosa_enrolled).
agent_(rosa_enrolled,rosa).
patient_(rosa_enrolled,"oberlin college").
start_(rosa_enrolled,"2017-09-01").
end_(rosa_enrolled,"2021-05-31").
attending_classes_(rosa_in_class).
agent_(rosa_in_class,rosa).
location_(rosa_in_class,"oberlin college").
start_(rosa_in_class,"2017-09-01").
end_(rosa_in_class,"2021-05-31").
marriage_(rosa_weds_theo).
agent_(rosa_weds_theo,theo).
patient_(rosa_weds_theo,rosa).
start_(rosa_weds_theo,"2016-07-09").

% Test
:- s3306_c_10_A_ii(rosa,theo,"oberlin college","2018-03-01").
:- halt.
