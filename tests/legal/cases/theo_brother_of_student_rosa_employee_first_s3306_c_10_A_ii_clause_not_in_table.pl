% Text
% Rosa has been enrolled at Oberlin College and attending classes there since September 1st,
% 2017 (until May 31st, 2021). Theo is Rosa's brother. Theo worked at the college library from February 5th to
% June 15th, 2018, and the college paid him $4100 for it on June 15th, 2018.
% By hand: as the case with the student named first ((A)(ii) does not apply: a brother is no
% spouse); here the employee is named first.

% Question
% Section 3306(c)(10)(A)(ii) applies to Theo, the brother of the student Rosa, on March 1st, 2018. Contradiction

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
brother_(theo_brother_of_rosa).
agent_(theo_brother_of_rosa,theo).
patient_(theo_brother_of_rosa,rosa).

% Test
:- s3306_c_10_A_ii(theo,rosa,"oberlin college","2018-03-01").
:- halt.
